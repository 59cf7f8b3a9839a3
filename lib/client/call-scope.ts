import { AttemptScope } from './attempt-scope.js';
import type { Clock } from './clock.js';

export type AbortCause = 'caller' | 'deadline';

/**
 * One call's cancellation and deadline, across its attempts and backoffs. When the caller aborts
 * or the total budget runs out, the running attempt is aborted, or the backoff cut short, and the
 * scope remembers which of the two it was.
 */
export class CallScope {
  readonly startedAt: number;
  readonly deadline: number;
  #cause: AbortCause | undefined;
  #attempt: AttemptScope | undefined;
  #wakeUp: (() => void) | undefined;
  readonly #timer: unknown;
  readonly #callerSignals: readonly AbortSignal[];
  readonly #onCallerAbort = () => this.#abort('caller');

  constructor(
    private readonly clock: Clock,
    totalMs: number,
    callerSignals: readonly (AbortSignal | undefined)[] = [],
  ) {
    this.startedAt = clock.now();
    this.deadline = this.startedAt + totalMs;
    this.#timer = clock.setTimeout(() => this.#abort('deadline'), totalMs);
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
    const attempt = new AttemptScope(this.clock);
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

  /** Releases the timer and the listeners on the caller's signals. Call once the call has settled. */
  dispose(): void {
    this.clock.clearTimeout(this.#timer);
    for (const signal of this.#callerSignals) {
      signal.removeEventListener('abort', this.#onCallerAbort);
    }
  }

  #abort(cause: AbortCause): void {
    if (this.#cause) return;
    this.#cause = cause;
    this.dispose();
    this.#attempt?.abort(new Error(cause === 'caller' ? 'aborted by the caller' : 'deadline'));
    this.#wakeUp?.();
  }
}
