import { Module } from '@nestjs/common';
import { InferenceModule } from 'nestjs-inference';
import { ChatController } from './chat.controller';
import { UsageLedger } from './usage-ledger.service';

@Module({
  imports: [
    InferenceModule.forRootAsync({
      useFactory: () => ({
        providers: {
          sim: {
            baseUrl: process.env.INFERENCE_BASE_URL!,
            apiKey: 'sk-consumer-smoke',
            defaultModel: 'sim-model',
          },
        },
        shutdown: { readinessDelayMs: 200, drainTimeoutMs: 10_000 },
      }),
    }),
  ],
  controllers: [ChatController],
  providers: [UsageLedger],
})
export class AppModule {}
