import type { LoggerService } from '@nestjs/common';
import { request } from 'undici';
import type { ResolvedCanaryOptions } from '../options/resolved-options.interface.js';
import type { RolloutEvent } from './rollout-events.js';

/** Events waiting for delivery; beyond this the oldest is dropped, with a warning. */
const QUEUE_LIMIT = 100;
const BACKOFF_MS = 250;

/**
 * Posts rollout events to a webhook, one at a time and in order, off the request path: a slow
 * or failing endpoint never delays a call. Each attempt is bounded by `timeoutMs`; failures are
 * retried `retries` times with backoff, then logged and dropped.
 */
export class RolloutWebhook {
  readonly #queue: RolloutEvent[] = [];
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly options: NonNullable<ResolvedCanaryOptions['webhook']>,
    private readonly logger: LoggerService,
  ) {}

  send(event: RolloutEvent): void {
    if (this.#closed) return;
    if (this.#queue.length >= QUEUE_LIMIT) {
      const dropped = this.#queue.shift()!;
      this.logger.warn(
        `Rollout webhook is behind; dropped the ${dropped.type} event of ${dropped.at}`,
      );
    }
    this.#queue.push(event);
    this.#sending ??= this.#drain().finally(() => (this.#sending = undefined));
  }

  /** Waits for queued events, at most one attempt's timeout, then stops. */
  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#sending) return;
    await Promise.race([
      this.#sending,
      new Promise((resolve) => setTimeout(resolve, this.options.timeoutMs).unref()),
    ]);
  }

  async #drain(): Promise<void> {
    for (let event = this.#queue.shift(); event; event = this.#queue.shift()) {
      await this.#deliver(event);
    }
  }

  async #deliver(event: RolloutEvent): Promise<void> {
    const body = JSON.stringify(event);
    let lastError = '';
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0)
        await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS * 2 ** (attempt - 1)));
      try {
        const response = await request(this.options.url, {
          method: 'POST',
          headers: { ...this.options.headers, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await response.body.dump();
        if (response.statusCode < 300) return;
        lastError = `status ${response.statusCode}`;
      } catch (error) {
        lastError = error instanceof Error ? error.name : 'error';
      }
      if (this.#closed) break;
    }
    this.logger.warn(
      `Rollout webhook ${this.options.url.origin} did not take the ${event.type} event (${lastError}); it is dropped`,
    );
  }
}
