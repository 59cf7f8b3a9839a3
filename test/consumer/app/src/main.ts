import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { enableInferenceShutdownHooks } from 'nestjs-inference';
// Only its types: the subpath must resolve under `module: commonjs` (typesVersions).
import type { InferenceHealthIndicator } from 'nestjs-inference/terminus';
import { SimulatedProvider } from 'nestjs-inference/testing';
import { AppModule } from './app.module';

export type Indicator = InferenceHealthIndicator;

/** A Nest 11 CommonJS app that installs the packed library, as a user's app would. */
async function bootstrap(): Promise<void> {
  const provider = await SimulatedProvider.start({
    apiKey: 'sk-consumer-smoke',
    chunks: 4,
    latency: { firstByteMs: Number(process.env.FIRST_BYTE_MS ?? 0) },
  });
  process.env.INFERENCE_BASE_URL = provider.baseUrl;
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn', 'log'] });
  enableInferenceShutdownHooks(app);
  await app.listen(0, '127.0.0.1');
  app.getHttpServer().once('close', () => void provider.close());
  console.log(JSON.stringify({ event: 'listening', url: await app.getUrl() }));
}

void bootstrap();
