export type {
  InferenceModuleOptions,
  PoolOptions,
  ProviderOptions,
  RetryOptions,
  TimeoutOptions,
} from './inference-options.interface.js';
export type {
  ResolvedInferenceOptions,
  ResolvedProviderOptions,
} from './resolved-options.interface.js';
export { InferenceOptionsError } from './inference-options.error.js';
export { resolveInferenceOptions } from './resolve-options.js';
export { Secret } from './secret.js';
