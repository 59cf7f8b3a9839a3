export { InferenceModule } from './inference.module.js';
export type { InferenceModuleExtras } from './inference.module-definition.js';
export { InferenceService } from './inference.service.js';
export { InferenceModel, ModelCatalog, type CatalogModel } from './model/index.js';
export type { ModelSelection } from './model/index.js';
export type { ChatCallOptions, EmbedCallOptions, StreamCallOptions } from './inference.service.js';
export { INFERENCE_OPTIONS } from './inference.constants.js';
export { InferenceStream, RETRYABLE_STATUSES, StreamConsumedError } from './client/index.js';
export type {
  ChatCompletion,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionRequest,
  ChatCompletionResult,
  ChatMessage,
  Clock,
  CompletionUsage,
  Embedding,
  EmbeddingRequest,
  EmbeddingResponse,
  EmbeddingResult,
  InferenceMetadata,
  StreamOutcome,
  StreamSummary,
} from './client/index.js';
export {
  InferenceInterceptor,
  currentRequestContext,
  runWithRequestContext,
} from './context/index.js';
export type { InferenceRequestContext } from './context/index.js';
export {
  InferenceAbortedError,
  InferenceConnectionError,
  InferenceError,
  InferenceExceptionFilter,
  InferenceHttpError,
  InferenceIncompleteStreamError,
  InferenceProtocolError,
  InferenceRateLimitError,
  InferenceRequestError,
  InferenceShutdownError,
  InferenceStreamError,
  InferenceTimeoutError,
  faultOf,
  httpStatusOf,
  INFERENCE_ERROR_OPTIONS,
  OpenAiExceptionFilter,
  openAiErrorBody,
  toHttpException,
} from './errors/index.js';
export { sendSse, sseErrorBody, toSseEvents } from './http/index.js';
export type { SseResponseOptions, SseTarget } from './http/index.js';
export type {
  Fault,
  FailurePhase,
  InferenceErrorOptions,
  OpenAiErrorBody,
  UpstreamErrorBody,
} from './errors/index.js';
export { InferenceOptionsError, inferenceOptionsSchema } from './options/index.js';
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
  ResolvedInferenceOptions,
  ResolvedProviderOptions,
  RetryOptions,
  ShutdownOptions,
  TimeoutOptions,
} from './options/index.js';
export {
  InflightRegistry,
  ShutdownCoordinator,
  enableInferenceShutdownHooks,
} from './lifecycle/index.js';
export type {
  InflightFigures,
  InflightSnapshot,
  InflightState,
  InferenceShutdownHooksOptions,
  ShutdownEvent,
  ShutdownPhase,
  ShutdownSummary,
} from './lifecycle/index.js';
export {
  BUCKETS,
  CanaryRollout,
  CanaryRouter,
  IDLE_STATE,
  InferenceRouter,
  MemoryRolloutStore,
  OUTCOME_CODES,
  RolloutActionError,
  RolloutMachine,
  QUALITY_SIGNALS,
  SHADOW_SKIPS,
  ShadowMetrics,
  ShadowMirror,
  SideMetrics,
  bucketOf,
  judgeShadow,
  similarity,
  judge,
  murmur3x86_32,
  newcombeLower,
  onCanary,
  wilsonLower,
  wilsonUpper,
  zScore,
} from './canary/index.js';
export type {
  Answer,
  AnswerQuality,
  CallFacts,
  CallRecord,
  Estimate,
  FeedbackCriteria,
  FeedbackFigures,
  QualityFigures,
  QualitySignal,
  ShadowFigures,
  ShadowGateCriteria,
  ShadowJob,
  ShadowPairObservation,
  ShadowSkip,
  ShadowSnapshot,
  JudgeCriteria,
  LatencyFigures,
  LatencyMeasure,
  PhaseFigures,
  RecordedCall,
  RolloutAction,
  RolloutChange,
  RolloutEvent,
  RolloutEvaluation,
  RolloutEventType,
  RolloutListener,
  RolloutReport,
  RolloutState,
  RolloutStatus,
  RolloutStore,
  RouteDecision,
  RouteRequest,
  SideFigures,
  SideSnapshot,
  Verdict,
  VerdictKind,
} from './canary/index.js';
export { ATTR, InferenceTelemetry, METRIC } from './telemetry/index.js';
export type { CallCost, CallEnd, CallStart } from './telemetry/index.js';
