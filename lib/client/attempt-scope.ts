import { EventEmitter } from 'node:events';
import type { Clock } from './clock.js';

export type AttemptTimeout = 'headers' | 'idle';

/**
 * One attempt of a call, and the signal undici aborts it by. It is an EventEmitter with
 * `aborted` and `reason`, which undici accepts as a signal: an `AbortController` costs several
 * microseconds per call, a measurable share of a loopback request.
 *
 * It records when its headers are due and since when it has been waiting for body bytes; the
 * call's single alarm (see `CallScope`) reads these and times the attempt out. Recording costs
 * no timer operation, so a stream pays nothing per chunk for its idle timeout.
 */
export class AttemptScope extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  /** When the response headers are due, while they are awaited. */
  headersDue: number | undefined;
  /** Since when the client has been waiting for the upstream's next bytes, while it waits. */
  waitingSince: number | undefined;
  #timedOut: AttemptTimeout | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly headersMs: number,
  ) {
    super();
  }

  /** Which of this attempt's budgets ran out, if one did. */
  get timedOut(): AttemptTimeout | undefined {
    return this.#timedOut;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.settle();
    this.emit('abort');
  }

  /** Called by the call's alarm when one of this attempt's budgets ran out. */
  timeOut(kind: AttemptTimeout): void {
    if (this.aborted) return;
    this.#timedOut = kind;
    this.abort(new Error(`${kind} timeout`));
  }

  /** The request is sent: its headers are due within `headersMs`. */
  armHeaders(): void {
    this.headersDue = this.clock.now() + this.headersMs;
  }

  /** The headers arrived (or the request failed). */
  disarm(): void {
    this.headersDue = undefined;
  }

  /** The client is now waiting for the upstream's next bytes. Time the caller spends not reading does not count. */
  waiting(): void {
    this.waitingSince = this.clock.now();
  }

  /** The upstream delivered: the wait is over. */
  received(): void {
    this.waitingSince = undefined;
  }

  /** The attempt is over: nothing of it is awaited any more, so the call's alarm leaves it alone. */
  settle(): void {
    this.headersDue = undefined;
    this.waitingSince = undefined;
  }
}
