export type {
  CallTimeoutOptions,
  CanaryFastFailOptions,
  CanaryOptions,
  CanaryPhase,
  CanaryShadowOptions,
  CanaryShadowGate,
  CanaryFeedbackOptions,
  ShadowPair,
  CanaryThresholds,
  CanaryWebhookOptions,
  InferenceModuleOptions,
  ModelPrice,
  PoolOptions,
  ProviderOptions,
  RetryOptions,
  ShutdownOptions,
  TimeoutOptions,
} from './inference-options.interface.js';
export type {
  ResolvedInferenceOptions,
  ResolvedProviderOptions,
} from './resolved-options.interface.js';
export { InferenceOptionsError } from './inference-options.error.js';
export { CALL_TIMEOUT_FIELDS } from './option.defaults.js';
export { resolveInferenceOptions } from './resolve-options.js';
export { Secret } from '../client/secret.js';
