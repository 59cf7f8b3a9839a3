import type { InferenceError } from '../errors/index.js';
import type { AttemptScope } from './attempt-scope.js';
import type { CallScope } from './call-scope.js';
import type { RetryPolicy } from './retry.policy.js';

/** The mutable state of one attempt, read by the failure classifier. */
export interface Attempt {
  number: number;
  phase: 'headers' | 'body';
  scope: AttemptScope;
  upstreamRequestId?: string;
  /** The provider's `x-ratelimit-*` headers on its answer, when it sent any. */
  rateLimit?: Record<string, string>;
}

export interface RetryHooks {
  /** Types whatever an attempt threw (or a backoff's abort), once. */
  classify(thrown: unknown, attempt: Attempt): InferenceError;
  /** Told before each retry: the attempt that failed, the backoff, and why. */
  onRetry(attempt: number, delayMs: number, error: InferenceError): void;
}

/**
 * Runs attempts until one succeeds, the policy gives up, or the call is stopped: a call its
 * caller cancelled, whose deadline passed or that the drain stopped is never retried here, even
 * when its error invites a retry elsewhere. Backoff waits end at once when the call is aborted.
 */
export async function withRetries<T>(
  scope: CallScope,
  policy: RetryPolicy,
  hooks: RetryHooks,
  run: (attempt: Attempt) => Promise<T>,
): Promise<T> {
  for (let number = 1; ; number++) {
    const attempt: Attempt = { number, phase: 'headers', scope: scope.startAttempt() };
    let error: InferenceError;
    try {
      return await run(attempt);
    } catch (thrown) {
      error = hooks.classify(thrown, attempt);
      attempt.scope.settle();
    }
    const delay = scope.abortCause
      ? undefined
      : policy.nextDelay(error, number, scope.remainingMs());
    if (delay === undefined) throw error;
    hooks.onRetry(number, delay, error);
    try {
      await scope.pause(delay);
    } catch (thrown) {
      throw hooks.classify(thrown, attempt);
    }
  }
}
