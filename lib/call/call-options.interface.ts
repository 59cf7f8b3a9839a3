import type { StreamSummary } from '../client/chat.types.js';
import type { CallTimeoutOptions } from '../client/provider-options.js';

export interface ChatCallOptions {
  /** Send this call to the named provider: it then bypasses the router (and any canary rollout). */
  provider?: string;
  /** The key that keeps this caller on one side of a rollout (by default read from the request's headers). */
  stickyKey?: string;
  /** Aborts the call. */
  signal?: AbortSignal;
  /** Overrides the request id (by default the incoming `x-request-id`, or a generated one). */
  requestId?: string;
  /** Overrides the provider's headers, idle and total budgets for this call (`connectMs` is per provider). */
  timeouts?: CallTimeoutOptions;
  /** Overrides the provider's `retry.maxRetries` for this call. */
  maxRetries?: number;
  /** Extra headers for this call (the client's own, such as `authorization`, cannot be replaced). */
  headers?: Record<string, string>;
  /**
   * `false`: never mirror this call to the canary in a shadow phase (a request with side
   * effects, or private data). Requests that offer tools are not mirrored by default either.
   */
  shadow?: boolean;
}

export interface EmbedCallOptions extends ChatCallOptions {
  /**
   * `stable` (the default): the rollout's stable provider, or the default one. `rollout`: split
   * by sticky key like chat calls, for an A/B of two embedding models whose vectors you keep
   * apart. Vectors of two models cannot share an index, so only ask for it knowingly.
   */
  routing?: 'stable' | 'rollout';
}

export interface StreamCallOptions extends ChatCallOptions {
  /** Called once when the stream ends, however it ends, with its outcome, usage and timings. */
  onEnd?: (summary: StreamSummary) => void;
}
