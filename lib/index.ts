/*
 * The package root: what an app that makes calls needs. Rollout operators and authors of routers
 * and rollout stores import from `nestjs-inference/canary`; internals are imported by path in this
 * repository's tests, never from here. `test/package/exports.spec.ts` lists every name.
 */

// The module and its options.
export { InferenceModule } from './inference.module.js';
export type { InferenceModuleExtras } from './inference.module-definition.js';
export { InferenceOptionsError } from './rules/inference-options.error.js';
export { inferenceOptionsSchema } from './options/resolve-options.js';
export type {
  CallTimeoutOptions,
  CanaryFastFailOptions,
  CanaryFeedbackOptions,
  CanaryOptions,
  CanaryPhase,
  CanaryShadowGate,
  CanaryShadowOptions,
  CanaryThresholds,
  CanaryWebhookOptions,
  InferenceModuleOptions,
  ModelPrice,
  PoolOptions,
  ProviderOptions,
  RetryOptions,
  ShadowPair,
  ShutdownOptions,
  TimeoutOptions,
} from './options/inference-options.interface.js';
export type { Clock } from './client/clock.js';
export type { CallCost } from './pricing/call-cost.js';

// Calls, streams, and what they carry.
export { InferenceService } from './inference.service.js';
export type { ChatCallOptions, EmbedCallOptions, StreamCallOptions } from './inference.service.js';
export { InferenceStream, StreamConsumedError } from './client/inference.stream.js';
export type {
  ChatCompletion,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionRequest,
  ChatCompletionResult,
  ChatMessage,
  CompletionUsage,
  InferenceMetadata,
  StreamOutcome,
  StreamSummary,
} from './client/chat.types.js';
export type {
  Embedding,
  EmbeddingRequest,
  EmbeddingResponse,
  EmbeddingResult,
} from './client/embedding.types.js';

// Routes: the model decorator, the catalog, the interceptor and the request context.
export { InferenceModel } from './model/inference-model.decorator.js';
export type { ModelSelection } from './model/model-selection.js';
export { ModelCatalog, type CatalogModel } from './model/model-catalog.js';
export { InferenceInterceptor } from './context/inference.interceptor.js';
export { currentRequestContext, runWithRequestContext } from './context/request-context.js';
export type { InferenceRequestContext } from './context/request-context.js';

// Errors, and how they reach HTTP clients.
export {
  InferenceAbortedError,
  InferenceConnectionError,
  InferenceError,
  InferenceHttpError,
  InferenceIncompleteStreamError,
  InferenceProtocolError,
  InferenceRateLimitError,
  InferenceRequestError,
  InferenceShutdownError,
  InferenceStreamError,
  InferenceTimeoutError,
} from './errors/inference.error.js';
export type { FailurePhase, UpstreamErrorBody } from './errors/inference.error.js';
export { faultOf, type Fault } from './errors/fault-of.js';
export { httpStatusOf, openAiErrorBody, toHttpException } from './errors/to-http-exception.js';
export type { InferenceErrorOptions, OpenAiErrorBody } from './errors/to-http-exception.js';
export { InferenceExceptionFilter } from './errors/inference-exception.filter.js';
export { OpenAiExceptionFilter } from './errors/openai-exception.filter.js';

// Server-sent events.
export { sendSse, sseErrorBody, toSseEvents } from './http/sse-response.js';
export type { SseResponseOptions, SseTarget } from './http/sse-response.js';

// Shutdown: the helper for Nest 11, and what an app may watch of the drain.
export { enableInferenceShutdownHooks } from './lifecycle/shutdown-hooks.js';
export type { InferenceShutdownHooksOptions } from './lifecycle/shutdown-hooks.js';
export { InflightRegistry } from './lifecycle/inflight.registry.js';
export type { InflightFigures } from './lifecycle/inflight.registry.js';
export type { InflightSnapshot, InflightState } from './lifecycle/inflight-request.js';
export { ShutdownCoordinator } from './lifecycle/shutdown.coordinator.js';
export type { ShutdownEvent, ShutdownPhase, ShutdownSummary } from './lifecycle/shutdown-events.js';

/*
 * Deprecated here, kept working: the rollout's names moved to `nestjs-inference/canary`, and the
 * metric and attribute names are documented in the README. They leave the root in 1.0.
 */
export {
  /** @deprecated Import from `nestjs-inference/canary`. */
  CanaryRollout,
  /** @deprecated Import from `nestjs-inference/canary`. */
  CanaryRouter,
  /** @deprecated Import from `nestjs-inference/canary`. */
  InferenceRouter,
  /** @deprecated Import from `nestjs-inference/canary`. */
  MemoryRolloutStore,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RolloutActionError,
  /** @deprecated Import from `nestjs-inference/canary`. */
  ShadowMirror,
} from './canary/index.js';
export type {
  /** @deprecated Import from `nestjs-inference/canary`. */
  Answer,
  /** @deprecated Import from `nestjs-inference/canary`. */
  AnswerQuality,
  /** @deprecated Import from `nestjs-inference/canary`. */
  CallFacts,
  /** @deprecated Import from `nestjs-inference/canary`. */
  Estimate,
  /** @deprecated Import from `nestjs-inference/canary`. */
  FeedbackFigures,
  /** @deprecated Import from `nestjs-inference/canary`. */
  LatencyFigures,
  /** @deprecated Import from `nestjs-inference/canary`. */
  QualityFigures,
  /** @deprecated Import from `nestjs-inference/canary`. */
  QualitySignal,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RecordedCall,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RolloutAction,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RolloutEvaluation,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RolloutEventType,
  /** @deprecated Import from `nestjs-inference/canary`. */
  SideFigures,
  /** @deprecated Import from `nestjs-inference/canary`. */
  Verdict,
  /** @deprecated Import from `nestjs-inference/canary`. */
  VerdictKind,
  /** @deprecated Import from `nestjs-inference/canary`. */
  CallRecord,
  /** @deprecated Import from `nestjs-inference/canary`. */
  PhaseFigures,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RolloutEvent,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RolloutListener,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RolloutReport,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RolloutState,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RolloutStatus,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RolloutStore,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RouteDecision,
  /** @deprecated Import from `nestjs-inference/canary`. */
  RouteRequest,
  /** @deprecated Import from `nestjs-inference/canary`. */
  ShadowFigures,
} from './canary/index.js';
export {
  /** @deprecated The names are documented in the README's "Metrics and traces". */
  ATTR,
  /** @deprecated The names are documented in the README's "Metrics and traces". */
  METRIC,
} from './telemetry/telemetry-names.js';
