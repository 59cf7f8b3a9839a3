import type { TimeoutOptions } from './provider-options.js';
import { AttemptScope } from './attempt-scope.js';
import type { CancelSource } from './cancel-source.js';
import type { Clock } from './clock.js';

/** Why a call was aborted: its caller cancelled, its total budget ran out, or the app's drain gave up on it. */
export type AbortCause = 'caller' | 'deadline' | 'shutdown';

/**
 * One call's cancellation and time budgets, across its attempts and backoffs. When the caller
 * aborts or the total budget runs out, the running attempt is aborted, or the backoff cut short,
 * and the scope remembers which of the two it was.
 *
 * Every budget (total deadline, the attempt's headers and first-chunk deadlines, its idle wait)
 * is watched by one timer, the alarm. When it fires it times out whatever is due, then re-arms
 * for the earliest budget left, and never later than the shortest budget ahead: a wait or a
 * request that starts after the alarm was set cannot be due before it, so neither needs a timer
 * of its own. A unary call costs one `setTimeout` and one `clearTimeout`.
 *
 * `deadline` may be given instead of being `totalMs` from now: a canary's fallback runs against
 * the deadline of the call it continues.
 */
export class CallScope {
  readonly startedAt: number;
  readonly deadline: number;
  /** Set by `stop()`. */
  stopRetryAfterMs: number | undefined;
  #cause: AbortCause | undefined;
  #attempt: AttemptScope | undefined;
  #wakeUp: (() => void) | undefined;
  #alarm: unknown;
  readonly #period: number;
  readonly #callerSignals: readonly CancelSource[];
  readonly #onCallerAbort = () => this.#abort('caller');

  constructor(
    private readonly clock: Clock,
    private readonly timeouts: Readonly<TimeoutOptions>,
    callerSignals: readonly (CancelSource | undefined)[] = [],
    deadline?: number,
  ) {
    this.startedAt = clock.now();
    this.deadline = Math.min(this.startedAt + timeouts.totalMs, deadline ?? Infinity);
    this.#period = Math.min(
      timeouts.headersMs || Infinity,
      timeouts.firstChunkMs,
      timeouts.idleMs,
      this.deadline - this.startedAt,
    );
    this.#setAlarm(this.#period);
    this.#callerSignals = callerSignals.filter((signal) => signal !== undefined);
    for (const signal of this.#callerSignals) {
      if (signal.aborted) this.#abort('caller');
      else signal.addEventListener('abort', this.#onCallerAbort, { once: true });
    }
  }

  /** Why the scope aborted, if it did. */
  get abortCause(): AbortCause | undefined {
    return this.#cause;
  }

  /** A new attempt, aborted with the call. */
  startAttempt(): AttemptScope {
    const attempt = new AttemptScope(this.clock, this.timeouts);
    this.#attempt = attempt;
    if (this.#cause) attempt.abort(new Error(this.#cause));
    return attempt;
  }

  /** Waits `ms` before the next attempt; rejects at once if the call is aborted meanwhile. */
  pause(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#cause) return reject(new Error(this.#cause));
      const timer = this.clock.setTimeout(() => {
        this.#wakeUp = undefined;
        resolve();
      }, ms);
      this.#wakeUp = () => {
        this.clock.clearTimeout(timer);
        reject(new Error(this.#cause));
      };
    });
  }

  remainingMs(): number {
    return Math.max(0, this.deadline - this.clock.now());
  }

  elapsedMs(): number {
    return this.clock.now() - this.startedAt;
  }

  /** Cancels the call on the caller's behalf (an unsubscribe, an early `return()`). */
  cancel(): void {
    this.#abort('caller');
  }

  /**
   * Stops the call because the application's drain deadline was reached; the error will ask the
   * caller to come back after `retryAfterMs`.
   */
  stop(retryAfterMs?: number): void {
    this.stopRetryAfterMs = retryAfterMs;
    this.#abort('shutdown');
  }

  /** Releases the alarm and the listeners on the caller's signals. Call once the call has settled. */
  dispose(): void {
    if (this.#alarm !== undefined) {
      this.clock.clearTimeout(this.#alarm);
      this.#alarm = undefined;
    }
    for (const signal of this.#callerSignals) {
      signal.removeEventListener('abort', this.#onCallerAbort);
    }
  }

  #setAlarm(inMs: number): void {
    this.#alarm = this.clock.setTimeout(this.#onAlarm, Math.max(0, inMs));
  }

  readonly #onAlarm = (): void => {
    this.#alarm = undefined;
    const now = this.clock.now();
    if (now >= this.deadline) return this.#abort('deadline');
    const attempt = this.#attempt;
    let next = Math.min(this.deadline, now + this.#period);
    if (attempt && !attempt.aborted) {
      if (attempt.headersDue !== undefined) {
        if (now >= attempt.headersDue) attempt.timeOut('headers');
        else next = Math.min(next, attempt.headersDue);
      }
      if (attempt.firstChunkDue !== undefined) {
        if (now >= attempt.firstChunkDue) attempt.timeOut('first-chunk');
        else next = Math.min(next, attempt.firstChunkDue);
      }
      if (attempt.waitingSince !== undefined) {
        const idleDue = attempt.waitingSince + this.timeouts.idleMs;
        if (now >= idleDue) attempt.timeOut('idle');
        else next = Math.min(next, idleDue);
      }
    }
    this.#setAlarm(next - now);
  };

  #abort(cause: AbortCause): void {
    if (this.#cause) return;
    this.#cause = cause;
    this.dispose();
    this.#attempt?.abort(new Error(cause));
    this.#wakeUp?.();
  }
}
