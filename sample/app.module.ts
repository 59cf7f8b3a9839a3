import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { InferenceModule, OpenAiExceptionFilter } from 'nestjs-inference';
import { InferenceHealthIndicator } from 'nestjs-inference/terminus';
import { ChatCompletionsController } from './chat-completions.controller.js';
import { DashboardController } from './dashboard.controller.js';
import { EmbeddingsController } from './embeddings.controller.js';
import { FeedbackController } from './feedback.controller.js';
import { HealthController } from './health.controller.js';
import { inferenceConfig } from './inference.config.js';
import { MetricsController } from './metrics.controller.js';
import { ModelsController } from './models.controller.js';
import { RecommendationsController } from './recommendations.controller.js';
import { RolloutAccess } from './rollout-access.js';
import { RolloutAuthHook } from './rollout-auth.hook.js';
import { RolloutEventLog } from './rollout-event-log.js';
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
    ModelsController,
    RecommendationsController,
    HealthController,
    RolloutController,
    FeedbackController,
    MetricsController,
    DashboardController,
  ],
  providers: [
    { provide: APP_FILTER, useClass: OpenAiExceptionFilter },
    InferenceHealthIndicator,
    UsageLedger,
    ShutdownReport,
    RolloutAccess,
    RolloutAuthHook,
    RolloutEventLog,
  ],
})
export class AppModule {}
