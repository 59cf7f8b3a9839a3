import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { rolloutConfig } from '../config/rollout.config.js';
import { DashboardController } from './dashboard.controller.js';
import { FeedbackController } from './feedback.controller.js';
import { RolloutAccess } from './rollout-access.js';
import { RolloutAuthMiddleware } from './rollout-auth.middleware.js';
import { RolloutEventLog } from './rollout-event-log.js';
import { RolloutController } from './rollout.controller.js';

/**
 * The rollout from `legacy` to `next` as operators and the business see it: its routes
 * (`/rollout*`, behind tokens), the dashboard page, and `POST /feedback`. The rollout itself is
 * the inference module's (`CanaryRollout`); its settings are in `inference.config.ts`.
 */
@Module({
  imports: [ConfigModule.forFeature(rolloutConfig)],
  controllers: [RolloutController, DashboardController, FeedbackController],
  providers: [RolloutAccess, RolloutAuthMiddleware, RolloutEventLog],
  exports: [RolloutAuthMiddleware],
})
export class RolloutModule {}
