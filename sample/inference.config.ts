import { registerAs } from '@nestjs/config';
import type { InferenceModuleOptions } from 'nestjs-inference';

/**
 * The gateway's providers, from the environment: `legacy` is the stable provider
 * (INFERENCE_*), `next` the one being migrated to (CANARY_*).
 */
export const inferenceConfig = registerAs('inference', (): InferenceModuleOptions => ({
  providers: {
    legacy: {
      baseUrl: process.env.INFERENCE_BASE_URL ?? '',
      apiKey: process.env.INFERENCE_API_KEY ?? '',
      defaultModel: process.env.INFERENCE_MODEL ?? 'gpt-4.1',
    },
    next: {
      baseUrl: process.env.CANARY_BASE_URL ?? '',
      apiKey: process.env.CANARY_API_KEY ?? '',
      defaultModel: process.env.CANARY_MODEL ?? 'deepseek-v3.2',
    },
  },
  defaultProvider: 'legacy',
}));
