import type { InferenceError } from '../errors/index.js';
import type { RetryOptions } from './provider-options.js';

/** Timeouts after the request was sent: the provider may still be generating (and billing) it. */
const GENERATING_TIMEOUTS: ReadonlySet<string> = new Set(['headers', 'first-chunk', 'idle']);

/**
 * Decides whether a failed attempt is tried again, and after how long: exponential backoff with
 * full jitter, capped, or the provider's own `Retry-After`, and never past the call's deadline.
 * An attempt that timed out after its request was sent is not retried unless `afterTimeout`.
 */
export class RetryPolicy {
  constructor(
    private readonly options: Readonly<RetryOptions>,
    private readonly random: () => number,
  ) {}

  /**
   * The delay before the next attempt, or undefined when there must be none.
   * @param attemptsMade attempts so far, the failed one included (1 after the first)
   * @param remainingMs time left before the call's total deadline
   */
  nextDelay(error: InferenceError, attemptsMade: number, remainingMs: number): number | undefined {
    if (!error.retryable || attemptsMade > this.options.maxRetries) return undefined;
    if (
      !this.options.afterTimeout &&
      error.code === 'upstream_timeout' &&
      GENERATING_TIMEOUTS.has(error.phase)
    ) {
      return undefined;
    }
    let delay: number;
    if (error.retryAfterMs !== undefined) {
      // A provider asking for a longer wait than we accept would only answer 429 again sooner.
      if (error.retryAfterMs > this.options.maxDelayMs) return undefined;
      delay = error.retryAfterMs;
    } else {
      delay = this.backoff(attemptsMade);
    }
    return delay < remainingMs ? delay : undefined;
  }

  /** Full jitter: uniform in [0, min(maxDelay, base × 2^(attempt − 1))). */
  backoff(attemptsMade: number): number {
    const ceiling = Math.min(
      this.options.maxDelayMs,
      this.options.baseDelayMs * 2 ** (attemptsMade - 1),
    );
    return Math.floor(this.random() * ceiling);
  }
}
