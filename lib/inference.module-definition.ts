import { ConfigurableModuleBuilder, type Type } from '@nestjs/common';
import type { InferenceRouter } from './routing/inference.router.js';
import type { InferenceModuleOptions } from './options/index.js';

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
}
