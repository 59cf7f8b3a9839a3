import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { InferenceModule, OpenAiExceptionFilter } from 'nestjs-inference';
import { inferenceConfig } from './config/inference.config.js';
import { serverConfig } from './config/server.config.js';
import { GatewayModule } from './gateway/gateway.module.js';
import { OpsModule } from './ops/ops.module.js';
import { RolloutModule } from './rollout/rollout.module.js';

/**
 * The gateway: the inference module configured from the environment (`config/`), and the
 * features built on it. Every error it answers is in OpenAI's shape. It starts no simulated
 * provider: `main.ts` does, for the sides the environment leaves unconfigured.
 */
@Module({
  imports: [
    // The environment only (no .env file); each feature registers its own namespace.
    ConfigModule.forRoot({ ignoreEnvFile: true, isGlobal: true, load: [serverConfig] }),
    InferenceModule.forRootAsync({ ...inferenceConfig.asProvider(), isGlobal: true }),
    GatewayModule,
    RolloutModule,
    OpsModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: OpenAiExceptionFilter }],
})
export class AppModule {}
