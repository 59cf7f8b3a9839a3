import { EventEmitter } from 'node:events';
import type { Clock } from './clock.js';

export type AttemptTimeout = 'headers' | 'first-chunk' | 'idle';

/**
 * One attempt of a call, and the signal undici aborts it by. It is an EventEmitter with
 * `aborted` and `reason`, which undici accepts as a signal: an `AbortController` costs several
 * microseconds per call, a measurable share of a loopback request.
 *
 * It records when its budgets are due: the response headers (when `headersMs` is set), a
 * stream's first chunk, and since when it has been waiting for the upstream's next bytes. The
 * call's single alarm (see `CallScope`) reads these and times the attempt out. Recording costs no
 * timer operation, so a stream pays nothing per chunk for its idle timeout.
 */
export class AttemptScope extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  /** When the response headers are due, while they are awaited and `headersMs` is set. */
  headersDue: number | undefined;
  /** When a stream's first chunk is due, until it arrives. The idle budget starts after it. */
  firstChunkDue: number | undefined;
  /** Since when the client has been waiting for the upstream's next bytes, while it waits. */
  waitingSince: number | undefined;
  #timedOut: AttemptTimeout | undefined;

  constructor(
    /** The call's clock; it also times what is read of a body after the call (`BodyWatch`). */
    readonly clock: Clock,
    private readonly budgets: { headersMs: number; firstChunkMs: number },
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

  /** The request is sent: its headers are due (if bounded), and a stream's first chunk. */
  armHeaders(stream: boolean): void {
    const now = this.clock.now();
    if (this.budgets.headersMs > 0) this.headersDue = now + this.budgets.headersMs;
    if (stream) this.firstChunkDue = now + this.budgets.firstChunkMs;
  }

  /** The headers arrived (or the request failed). */
  disarm(): void {
    this.headersDue = undefined;
  }

  /**
   * The client is now waiting for the upstream's next bytes. Time the caller spends not reading
   * does not count; a wait that is already running goes on (bytes that were not progress, such
   * as SSE comments, do not restart it). Before a stream's first chunk, its own budget applies.
   */
  waiting(): void {
    if (this.firstChunkDue === undefined) this.waitingSince ??= this.clock.now();
  }

  /** The upstream made progress (body bytes, a stream event): the wait is over. */
  received(): void {
    this.waitingSince = undefined;
  }

  /**
   * A stream's first chunk with content arrived: its first-chunk budget is met, and the idle
   * budget applies from now on. A chunk with nothing but the assistant's role, which many servers
   * send at once before a reasoning model's silence, does not end the first-chunk budget.
   */
  answered(): void {
    this.firstChunkDue = undefined;
  }

  /** The attempt is over: nothing of it is awaited any more, so the call's alarm leaves it alone. */
  settle(): void {
    this.headersDue = undefined;
    this.firstChunkDue = undefined;
    this.waitingSince = undefined;
  }
}

/** The mutable state of one attempt, read by the failure classifier. */
export interface Attempt {
  number: number;
  phase: 'headers' | 'body';
  scope: AttemptScope;
  upstreamRequestId?: string;
  /** The provider's `x-ratelimit-*` headers on its answer, when it sent any. */
  rateLimit?: Record<string, string>;
}
