import type { CallScope } from './call-scope.js';
import type { Clock } from './clock.js';

export type AttemptTimeout = 'headers' | 'idle';

/**
 * One attempt of a call: its own abort signal, tied to the call's, and the headers and idle
 * timers that fail only this attempt (so it can be retried). The timers run on the module's
 * clock; undici's own parser timers tick every half second, too coarse for sub-second budgets.
 */
export class AttemptScope {
  readonly signal: AbortSignal;
  #timedOut: AttemptTimeout | undefined;
  #timer: unknown;
  readonly #controller = new AbortController();
  readonly #onCallAbort = () => this.#controller.abort(this.call.signal.reason);

  constructor(
    private readonly clock: Clock,
    private readonly call: CallScope,
  ) {
    this.signal = this.#controller.signal;
    if (call.signal.aborted) this.#onCallAbort();
    else call.signal.addEventListener('abort', this.#onCallAbort, { once: true });
  }

  /** Which of this attempt's timers fired, if one did. */
  get timedOut(): AttemptTimeout | undefined {
    return this.#timedOut;
  }

  /** Fails the attempt unless `disarm()` is called within `ms`. Replaces any armed timer. */
  arm(kind: AttemptTimeout, ms: number): void {
    this.disarm();
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timedOut = kind;
      this.#controller.abort(new Error(`${kind} timeout`));
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

  end(): void {
    this.disarm();
    this.call.signal.removeEventListener('abort', this.#onCallAbort);
  }
}
