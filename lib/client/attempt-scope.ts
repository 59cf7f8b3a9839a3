import { EventEmitter } from 'node:events';
import type { Clock } from './clock.js';

export type AttemptTimeout = 'headers' | 'idle';

/**
 * One attempt of a call, and the signal undici aborts it by. It is an EventEmitter with
 * `aborted` and `reason`, which undici accepts as a signal: an `AbortController` costs several
 * microseconds per call, a measurable share of a loopback request.
 *
 * It owns the headers and idle timers, which fail only this attempt (so it can be retried). They
 * run on the module's clock; undici's own parser timers tick every half second, too coarse for
 * sub-second budgets.
 */
export class AttemptScope extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  #timedOut: AttemptTimeout | undefined;
  #timer: unknown;

  constructor(private readonly clock: Clock) {
    super();
  }

  /** Which of this attempt's timers fired, if one did. */
  get timedOut(): AttemptTimeout | undefined {
    return this.#timedOut;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.disarm();
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }

  /** Fails the attempt unless `disarm()` is called within `ms`. Replaces any armed timer. */
  arm(kind: AttemptTimeout, ms: number): void {
    this.disarm();
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timedOut = kind;
      this.abort(new Error(`${kind} timeout`));
    }, ms);
  }

  disarm(): void {
    if (this.#timer === undefined) return;
    this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Waits for `promise` with the idle timer armed: the upstream has `ms` to deliver. */
  async idle<T>(promise: Promise<T>, ms: number): Promise<T> {
    this.arm('idle', ms);
    try {
      return await promise;
    } finally {
      this.disarm();
    }
  }
}
