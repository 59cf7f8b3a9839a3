import type { LoggerService } from '@nestjs/common';
import { LogHistogram } from '../stats/log-histogram.js';

/** How many requests between two looks at the observed p99. */
const CHECK_EVERY = 512;

/**
 * Watches how long requests take and warns, once, when twice the observed p99 exceeds the drain
 * timeout: a deploy would then abandon slow requests. O(1) per request; the p99 is read every
 * 512 requests, over the last 512 to 1024 of them.
 */
export class DrainBudgetWatch {
  #current = new LogHistogram();
  #previous = new LogHistogram();
  #warned = false;

  constructor(
    private readonly drainTimeoutMs: number,
    private readonly logger: LoggerService,
  ) {}

  record(durationMs: number): void {
    this.#current.record(durationMs);
    if (this.#current.count < CHECK_EVERY) return;
    const window = this.#previous;
    window.merge(this.#current);
    const p99 = window.quantile(0.99);
    [this.#previous, this.#current] = [this.#current, window];
    this.#current.reset();
    if (!this.#warned && 2 * p99 > this.drainTimeoutMs) {
      this.#warned = true;
      this.logger.warn(
        `Observed request p99 is about ${Math.round(p99)} ms: twice that exceeds shutdown.drainTimeoutMs (${this.drainTimeoutMs} ms), so a deploy may abandon slow requests. Raise drainTimeoutMs (and the orchestrator's grace period) to at least ${Math.ceil(2 * p99)} ms.`,
      );
    }
  }

  /** The p99 over the recent window, in ms (0 before any request). */
  get p99(): number {
    const window = new LogHistogram();
    window.merge(this.#previous);
    window.merge(this.#current);
    return window.quantile(0.99);
  }
}
