import { EventEmitter } from 'node:events';
import type { Clock } from './clock.js';

export type AttemptTimeout = 'headers' | 'idle';

/**
 * One attempt of a call, and the signal undici aborts it by. It is an EventEmitter with
 * `aborted` and `reason`, which undici accepts as a signal: an `AbortController` costs several
 * microseconds per call, a measurable share of a loopback request.
 *
 * It owns the headers timer and the idle watch, which fail only this attempt (so it can be
 * retried). They run on the module's clock; undici's own parser timers tick every half second,
 * too coarse for sub-second budgets.
 */
export class AttemptScope extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  #timedOut: AttemptTimeout | undefined;
  #timer: unknown;
  #idleMs = Infinity;
  #idleTimer: unknown;
  #waitingSince: number | undefined;

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
    this.stopIdle();
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }

  /** Fails the attempt with a headers timeout unless `disarm()` is called within `ms`. */
  armHeaders(ms: number): void {
    this.disarm();
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timedOut = 'headers';
      this.abort(new Error('headers timeout'));
    }, ms);
  }

  disarm(): void {
    if (this.#timer === undefined) return;
    this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Starts the idle watch: from now on, the upstream has `ms` to deliver each time `waiting()`
   * is called, until `received()`. Time the caller spends not reading does not count. One timer
   * serves a whole stream: when it fires it checks how long the wait has really lasted, and
   * either fails the attempt or sleeps for what is left, so reads cost no timer operations.
   */
  watchIdle(ms: number): void {
    this.#idleMs = ms;
  }

  /** The client is now waiting for the upstream. */
  waiting(): void {
    this.#waitingSince = this.clock.now();
    if (this.#idleTimer === undefined) this.#scheduleIdleCheck(this.#idleMs);
  }

  /** The upstream delivered: the wait is over. */
  received(): void {
    this.#waitingSince = undefined;
  }

  /** Ends the idle watch (the body is complete, or the attempt is over). */
  stopIdle(): void {
    this.#waitingSince = undefined;
    if (this.#idleTimer === undefined) return;
    this.clock.clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #scheduleIdleCheck(ms: number): void {
    this.#idleTimer = this.clock.setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#waitingSince === undefined || this.aborted) return; // waiting() re-arms
      const waited = this.clock.now() - this.#waitingSince;
      if (waited >= this.#idleMs) {
        this.#timedOut = 'idle';
        this.abort(new Error('idle timeout'));
      } else {
        this.#scheduleIdleCheck(this.#idleMs - waited);
      }
    }, ms);
  }
}
