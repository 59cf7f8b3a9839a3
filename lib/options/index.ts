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
export type { ResolvedProviderOptions } from '../client/provider-options.js';
export { CALL_TIMEOUT_FIELDS, InferenceOptionsError } from '../rules/index.js';
export {
  inferenceOptionsSchema,
  providerRegistryOptions,
  resolveInferenceOptions,
  type ResolvedInferenceOptions,
} from './resolve-options.js';
export { Secret } from '../client/secret.js';
