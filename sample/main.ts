import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { enableInferenceShutdownHooks } from 'nestjs-inference';
import { AppModule } from './app.module.js';
import { serverConfig, type ServerConfig } from './config/server.config.js';
import { startSimulatedUpstreams } from './dev/simulated-upstreams.js';
import { configureGateway } from './gateway-setup.js';
import { reportSignals } from './ops/shutdown-report.js';

/** `HTTP_ADAPTER=fastify` runs the gateway on Fastify; Express is the default. */
async function createApp(adapter: ServerConfig['adapter']): Promise<INestApplication> {
  if (adapter === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    return NestFactory.create(AppModule, new FastifyAdapter());
  }
  return NestFactory.create(AppModule);
}

async function bootstrap(): Promise<void> {
  const logger = new Logger('Gateway');
  // Development only: a simulated provider for each side the environment leaves unconfigured,
  // so `npm start` needs no API key. An app copied from this one drops these lines.
  const simulated = await startSimulatedUpstreams(process.env);
  if (simulated.length > 0) {
    logger.log(`Simulated providers started for ${simulated.length} side(s): no API key needed.`);
  }
  // The adapter is chosen before the app exists; the rest of the server's config comes from it.
  const app = await createApp(serverConfig().adapter);
  configureGateway(app);
  reportSignals();
  const { port, host, shutdownHooks } = app.get<ServerConfig>(serverConfig.KEY);
  // All the module needs for a drop-free shutdown on Nest 12: Nest's own signal handling. On
  // Nest 11 (`SHUTDOWN_HOOKS=inference`), the module's helper, which drains before app.close().
  if (shutdownHooks === 'inference') enableInferenceShutdownHooks(app);
  else app.enableShutdownHooks();
  await app.listen(port, host);
  logger.log(`Gateway listening on ${await app.getUrl()}/v1/chat/completions`);

  const stopSimulated = () => Promise.all(simulated.map((provider) => provider.close()));
  process.once('beforeExit', () => void stopSimulated());
  app.getHttpServer().once('close', () => void stopSimulated());
}

void bootstrap();
