import type { LoggerService } from '@nestjs/common';
import { request } from 'undici';
import { sleep, timeoutSignal, type Clock } from '../client/clock.js';
import type { ResolvedCanaryOptions } from './canary-options.js';
import type { RolloutEvent } from './rollout-events.js';

/** Events waiting for delivery; beyond this the oldest is dropped, with a warning. */
const QUEUE_LIMIT = 100;
const BACKOFF_MS = 250;

/**
 * Posts rollout events to a webhook, one at a time and in order, off the request path: a slow
 * or failing endpoint never delays a call. Each attempt is bounded by `timeoutMs`; failures are
 * retried `retries` times with backoff, then logged and dropped. `close()` gives queued events
 * one attempt's time, then stops every delivery and timer. Its timers run on the module's clock.
 */
export class RolloutWebhook {
  readonly #queue: RolloutEvent[] = [];
  /** Aborted as `close()` starts: no backoff wait, no retry. */
  readonly #closing = new AbortController();
  /** Aborted once `close()`'s bound has passed: the attempt in flight and the queue stop too. */
  readonly #stop = new AbortController();
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly options: NonNullable<ResolvedCanaryOptions['webhook']>,
    private readonly logger: LoggerService,
    private readonly clock: Clock,
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

  /** Gives queued events one attempt each (no retry) for at most `timeoutMs`, then stops. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    if (this.#sending) {
      let timer: unknown;
      await Promise.race([
        this.#sending,
        new Promise<void>(
          (resolve) => (timer = this.clock.setTimeout(resolve, this.options.timeoutMs)),
        ),
      ]);
      this.clock.clearTimeout(timer);
    }
    this.#stop.abort();
    await this.#sending;
    if (this.#queue.length > 0) {
      this.logger.warn(
        `Rollout webhook closed with ${this.#queue.length} event(s) undelivered; they are dropped`,
      );
      this.#queue.length = 0;
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stop.signal.aborted) {
      await this.#deliver(this.#queue.shift()!);
    }
  }

  async #deliver(event: RolloutEvent): Promise<void> {
    const body = JSON.stringify(event);
    const stop = this.#stop.signal;
    let lastError = '';
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      let timeout: ReturnType<typeof timeoutSignal> | undefined;
      try {
        if (attempt > 0) {
          await sleep(this.clock, BACKOFF_MS * 2 ** (attempt - 1), this.#closing.signal);
        }
        timeout = timeoutSignal(this.clock, this.options.timeoutMs);
        const response = await request(this.options.url, {
          method: 'POST',
          headers: { ...this.options.headers, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.any([timeout.signal, stop]),
        });
        await response.body.dump();
        if (response.statusCode < 300) return;
        lastError = `status ${response.statusCode}`;
      } catch (error) {
        lastError = error instanceof Error ? error.name : 'error';
      } finally {
        timeout?.clear();
      }
      // Once closing, an event gets no retry: close() is bounded by one attempt.
      if (this.#closed || stop.aborted) break;
    }
    this.logger.warn(
      `Rollout webhook ${this.options.url.origin} did not take the ${event.type} event (${lastError}); it is dropped`,
    );
  }
}
