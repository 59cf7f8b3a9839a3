import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { enableInferenceShutdownHooks } from 'nestjs-inference';
import { AppModule } from './app.module.js';
import { configureGateway } from './gateway-setup.js';
import { reportSignals } from './shutdown-report.js';
import { startSimulatedUpstreams } from './simulated-upstreams.js';

/** `HTTP_ADAPTER=fastify` runs the gateway on Fastify; Express is the default. */
async function createApp(): Promise<INestApplication> {
  if (process.env.HTTP_ADAPTER === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    return NestFactory.create(AppModule, new FastifyAdapter());
  }
  return NestFactory.create(AppModule);
}

async function bootstrap(): Promise<void> {
  const logger = new Logger('Gateway');
  const simulated = await startSimulatedUpstreams(process.env);
  if (simulated.length > 0) {
    logger.log(`Simulated providers started for ${simulated.length} side(s): no API key needed.`);
  }
  const app = await createApp();
  configureGateway(app);
  reportSignals();
  // All the module needs for a drop-free shutdown on Nest 12: Nest's own signal handling. On
  // Nest 11 (`SHUTDOWN_HOOKS=inference`), the module's helper, which drains before app.close().
  if (process.env.SHUTDOWN_HOOKS === 'inference') enableInferenceShutdownHooks(app);
  else app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  logger.log(`Gateway listening on ${await app.getUrl()}/v1/chat/completions`);

  const stopSimulated = () => Promise.all(simulated.map((provider) => provider.close()));
  process.once('beforeExit', () => void stopSimulated());
  app.getHttpServer().once('close', () => void stopSimulated());
}

void bootstrap();
