import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { gatewayConfig } from '../config/gateway.config.js';
import { ChatCompletionsController } from './chat-completions.controller.js';
import { EmbeddingsController } from './embeddings.controller.js';
import { ModelsController } from './models.controller.js';
import { RecommendationsController } from './recommendations.controller.js';
import { UsageLedger } from './usage-ledger.service.js';

/**
 * What clients call: OpenAI's chat completions, embeddings and models routes, and two routes on
 * two logical models (`POST /recommendations`, `POST /chat`). Each answered call is written to
 * the usage ledger.
 */
@Module({
  imports: [ConfigModule.forFeature(gatewayConfig)],
  controllers: [
    ChatCompletionsController,
    EmbeddingsController,
    ModelsController,
    RecommendationsController,
  ],
  providers: [UsageLedger],
})
export class GatewayModule {}
