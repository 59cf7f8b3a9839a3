import type { CallTimeoutOptions } from '../client/provider-options.js';

/** What a route asks of its calls, through `@InferenceModel(...)`. */
export interface ModelSelection {
  /** A logical model (a key of the module's `models`) or a provider's own model name. */
  model: string;
  /** Pins the route's calls to this provider (no canary routing). */
  provider?: string;
  /** Used when the request sets no `temperature`. */
  temperature?: number;
  /** Used when the request sets neither `max_tokens` nor `max_completion_tokens`. */
  maxTokens?: number;
  /** Used when the call passes no `timeouts`. */
  timeouts?: CallTimeoutOptions;
}
