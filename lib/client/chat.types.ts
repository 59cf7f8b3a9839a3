import type { CallCost } from '../pricing/call-cost.js';

/**
 * The OpenAI chat-completions wire format, as far as the module reads it. Fields it does not
 * know are passed through untouched, so provider-specific parameters keep working.
 */
export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | (string & {});
  content: string | null | unknown[];
  name?: string;
  [field: string]: unknown;
}

export interface ChatCompletionRequest {
  /** Optional here: the route's `@InferenceModel` or the provider's `defaultModel` fill it in. */
  model?: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean; [field: string]: unknown };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  [field: string]: unknown;
}

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; [field: string]: unknown };
  completion_tokens_details?: Record<string, unknown>;
}

export interface ChatCompletionChoice {
  index: number;
  message: { role: string; content: string | null; [field: string]: unknown };
  finish_reason: string | null;
  [field: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: CompletionUsage;
  [field: string]: unknown;
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: { role?: string; content?: string | null; [field: string]: unknown };
  finish_reason: string | null;
  [field: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChatCompletionChunkChoice[];
  usage?: CompletionUsage | null;
  [field: string]: unknown;
}

/** What the module adds to every call's result: who answered, and how it went. */
export interface InferenceMetadata {
  provider: string;
  model: string;
  /** Ours: the incoming `x-request-id` when there was one, otherwise generated. Sent upstream. */
  requestId: string;
  /** The provider's own request id, from its `x-request-id` response header. */
  upstreamRequestId?: string;
  /** The provider's `x-ratelimit-*` response headers, when it sent any (unary calls). */
  rateLimit?: Record<string, string>;
  /** Attempts made, the successful one included. */
  attempts: number;
  /** From the call's start until the response headers of the successful attempt. */
  timeToHeadersMs: number;
  /** The whole call, retries and backoff included. */
  durationMs: number;
  usage?: CompletionUsage;
  /** The rollout side that answered, when a canary rollout routed the call. */
  side?: 'stable' | 'canary';
  /** Set when the canary failed before answering and this answer came from the stable provider. */
  fallbackFrom?: string;
  /** What the call cost, from the provider's reported usage and `providers.<name>.prices`. */
  cost?: CallCost;
}

/** A completion with the call's metadata under `inference` (not enumerable, so JSON stays OpenAI's). */
export type ChatCompletionResult = ChatCompletion & { readonly inference: InferenceMetadata };

/** How a stream ended. Every stream ends with exactly one of these. */
export type StreamOutcome = 'completed' | 'failed' | 'aborted';

export interface StreamSummary extends Omit<InferenceMetadata, 'timeToHeadersMs'> {
  outcome: StreamOutcome;
  /** Undefined when the stream failed before the headers of a successful attempt. */
  timeToHeadersMs?: number;
  /** From the call's start until the first chunk reached the caller. */
  timeToFirstChunkMs?: number;
  chunks: number;
  finishReason?: string | null;
  error?: unknown;
}
