import 'reflect-metadata';
import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  InferenceModule,
  type CanaryOptions,
  type InferenceModuleOptions,
  type ProviderOptions,
} from '../../lib/index.js';

/**
 * An app context with two providers, `legacy` (stable) and `next` (canary), and a rollout that
 * starts at boot straight into one long 50% phase (no warm-up), unless `canary` says otherwise.
 */
export async function startRolloutApp(
  providers: { legacy: ProviderOptions; next: ProviderOptions },
  canary: Partial<CanaryOptions> = {},
  logger?: LoggerService,
  models?: InferenceModuleOptions['models'],
): Promise<INestApplicationContext> {
  const builder = Test.createTestingModule({
    imports: [
      InferenceModule.forRoot({
        providers,
        models,
        defaultProvider: 'legacy',
        canary: {
          stable: 'legacy',
          canary: 'next',
          phases: [{ weight: 50, durationMs: 3_600_000 }],
          warmup: { probes: 0 },
          autoStart: true,
          ...canary,
        },
      }),
    ],
  });
  if (logger) builder.setLogger(logger);
  return (await builder.compile()).init();
}
