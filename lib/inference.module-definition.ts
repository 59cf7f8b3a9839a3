import {
  ConfigurableModuleBuilder,
  type ClassProvider,
  type ExistingProvider,
  type FactoryProvider,
  type Type,
  type ValueProvider,
} from '@nestjs/common';
import type { RolloutStore } from './canary/rollout.store.js';
import type { InferenceRouter } from './routing/inference.router.js';
import type { InferenceModuleOptions } from './options/inference-options.interface.js';

export const {
  ConfigurableModuleClass: InferenceConfigurableModule,
  MODULE_OPTIONS_TOKEN: INFERENCE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<InferenceModuleOptions>({ moduleName: 'Inference' })
  .setClassMethodName('forRoot')
  .build();

/** Options of both `forRoot` and `forRootAsync`, besides the provider options themselves. */
export interface InferenceModuleExtras {
  /** Make `InferenceService` injectable everywhere without importing the module again. */
  isGlobal?: boolean;
  /** Register `InferenceInterceptor` for every route (default true). */
  globalInterceptor?: boolean;
  /** Replaces `CanaryRouter`: a class extending `InferenceRouter`, provided in the module. */
  router?: Type<InferenceRouter>;
  /**
   * The rollout's store, provided in the module under `ROLLOUT_STORE`: `{ useFactory, inject }`,
   * `{ useClass }`, `{ useValue }` or `{ useExisting }`. Default in memory. The option
   * `canary.store` wins over it (a warning at startup says so when both are given).
   */
  rolloutStore?: RolloutStoreProvider;
}

/** A provider of the rollout's store, without `provide` (the module adds `ROLLOUT_STORE`). */
export type RolloutStoreProvider =
  | Omit<FactoryProvider<RolloutStore>, 'provide'>
  | Omit<ClassProvider<RolloutStore>, 'provide'>
  | Omit<ValueProvider<RolloutStore>, 'provide'>
  | Omit<ExistingProvider<RolloutStore>, 'provide'>;
