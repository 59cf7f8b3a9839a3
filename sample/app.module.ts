import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { InferenceExceptionFilter, InferenceModule } from 'nestjs-inference';
import { ChatCompletionsController } from './chat-completions.controller.js';
import { inferenceConfig } from './inference.config.js';

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    InferenceModule.forRootAsync(inferenceConfig.asProvider()),
  ],
  controllers: [ChatCompletionsController],
  providers: [{ provide: APP_FILTER, useClass: InferenceExceptionFilter }],
})
export class AppModule {}
