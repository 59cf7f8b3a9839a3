import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { InferenceExceptionFilter, InferenceModule } from 'nestjs-inference';
import { InferenceHealthIndicator } from 'nestjs-inference/terminus';
import { ChatCompletionsController } from './chat-completions.controller.js';
import { EmbeddingsController } from './embeddings.controller.js';
import { FeedbackController } from './feedback.controller.js';
import { HealthController } from './health.controller.js';
import { inferenceConfig } from './inference.config.js';
import { MetricsController } from './metrics.controller.js';
import { RecommendationsController } from './recommendations.controller.js';
import { RolloutController } from './rollout.controller.js';
import { ShutdownReport } from './shutdown-report.js';
import { UsageLedger } from './usage-ledger.service.js';

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    InferenceModule.forRootAsync(inferenceConfig.asProvider()),
    TerminusModule.forRoot({ logger: false }),
  ],
  controllers: [
    ChatCompletionsController,
    EmbeddingsController,
    RecommendationsController,
    HealthController,
    RolloutController,
    FeedbackController,
    MetricsController,
  ],
  providers: [
    { provide: APP_FILTER, useClass: InferenceExceptionFilter },
    InferenceHealthIndicator,
    UsageLedger,
    ShutdownReport,
  ],
})
export class AppModule {}
