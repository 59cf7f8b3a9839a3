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
} from './chat.types.js';
export type {
  Embedding,
  EmbeddingRequest,
  EmbeddingResponse,
  EmbeddingResult,
} from './embedding.types.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { InferenceStream, StreamConsumedError } from './inference.stream.js';
export { ProviderClient } from './provider.client.js';
export type { ResolvedChatRequest, StreamCall, UnaryCall } from './provider.client.js';
export type { UpstreamCall } from './upstream-call.js';
export { RETRYABLE_STATUSES } from './classify-failure.js';
export { RetryPolicy } from './retry.policy.js';
export { SseDecoder } from './sse.decoder.js';
