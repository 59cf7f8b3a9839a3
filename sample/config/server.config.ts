import { registerAs, type ConfigType } from '@nestjs/config';
import { fromEnvironment } from './environment.js';

/** 25 MiB: a vision request with a few base64 images fits; JSON that large parses in ~50 ms. */
export const DEFAULT_BODY_LIMIT_BYTES = 25 * 1024 * 1024;

/**
 * The HTTP server: where it listens (`PORT`, default 3000; `HOST`, default loopback), on which
 * adapter (`HTTP_ADAPTER`: `express` by default, or `fastify`), the largest JSON body
 * (`BODY_LIMIT_BYTES`, 25 MiB), and who handles termination signals (`SHUTDOWN_HOOKS`: `nest`,
 * Nest's own shutdown hooks, or `inference`, the module's helper, which Nest 11 needs).
 *
 * `main.ts` reads the adapter before the app exists (it calls this factory itself); the rest it
 * gets from the app, as any provider would.
 */
export const serverConfig = registerAs(
  'server',
  fromEnvironment('server', (env) => ({
    port: env.integer('PORT', { max: 65_535, fallback: 3000 }),
    host: env.text('HOST', '127.0.0.1'),
    adapter: env.choice('HTTP_ADAPTER', ['express', 'fastify'], 'express'),
    shutdownHooks: env.choice('SHUTDOWN_HOOKS', ['nest', 'inference'], 'nest'),
    bodyLimitBytes: env.integer('BODY_LIMIT_BYTES', {
      min: 1,
      hint: 'a positive integer number of bytes',
      fallback: DEFAULT_BODY_LIMIT_BYTES,
    }),
  })),
);

export type ServerConfig = ConfigType<typeof serverConfig>;
