import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { enableInferenceShutdownHooks } from '../../lib/index.js';

export const adapters = {
  express: () => new ExpressAdapter(),
  fastify: () => new FastifyAdapter(),
} as const;
export type AdapterName = keyof typeof adapters;

/**
 * A real Nest HTTP app on loopback, on the chosen adapter, with the module's shutdown hooks (the
 * documented call on both majors: on Nest 11 it makes `app.close()` drain before the app's hooks).
 */
export async function startHttpApp(
  adapter: AdapterName,
  module: Parameters<typeof Test.createTestingModule>[0],
  configure?: (app: INestApplication) => void,
): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule(module).compile();
  const app = moduleRef.createNestApplication(adapters[adapter](), { logger: false });
  configure?.(app);
  enableInferenceShutdownHooks(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}
