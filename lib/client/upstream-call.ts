import type { InferenceError } from '../errors/index.js';
import type { CallScope } from './call-scope.js';
import type { RetryPolicy } from './retry.policy.js';

/**
 * A call's run on one provider, as the client sees it: its scope (budgets, signals, deadline),
 * retry policy and extra headers going in, and the facts of its attempts written back as they
 * happen. One object per run, read by whoever ends the call: no callbacks.
 */
export interface UpstreamCall {
  readonly requestId: string;
  readonly scope: CallScope;
  readonly retry: RetryPolicy;
  readonly headers?: Record<string, string>;
  /** Attempts started so far. */
  attempts: number;
  /** Since the scope's start, until the headers of the attempt that succeeded. */
  timeToHeadersMs?: number;
  /** The provider's request id and `x-ratelimit-*` headers, from the attempt that succeeded. */
  upstreamRequestId?: string;
  rateLimit?: Record<string, string>;
  /** Told before each retry: the attempt that failed, the backoff, and why. */
  retrying(attempt: number, delayMs: number, error: InferenceError): void;
}
