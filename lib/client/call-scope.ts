import type { Clock } from './clock.js';

export type AbortCause = 'caller' | 'deadline';

/**
 * One call's cancellation and deadline: a signal that aborts when the caller aborts or when the
 * total budget runs out, and remembers which of the two it was.
 */
export class CallScope {
  readonly signal: AbortSignal;
  readonly startedAt: number;
  readonly deadline: number;
  #cause: AbortCause | undefined;
  readonly #controller = new AbortController();
  readonly #timer: unknown;
  readonly #callerSignals: readonly AbortSignal[];
  readonly #onCallerAbort = () => this.#abort('caller');

  constructor(
    private readonly clock: Clock,
    totalMs: number,
    callerSignals: readonly (AbortSignal | undefined)[] = [],
  ) {
    this.signal = this.#controller.signal;
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

  /** Releases the timer and the listener on the caller's signal. Call once the call has settled. */
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
    this.#controller.abort(new Error(cause === 'caller' ? 'aborted by the caller' : 'deadline'));
  }
}
