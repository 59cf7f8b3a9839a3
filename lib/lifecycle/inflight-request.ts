import type { ServerResponse } from 'node:http';
import type { CallTracking } from '../client/call-tracking.js';
import type { CancelSource } from '../client/cancel-source.js';
import { requestIdFrom } from './request-id.js';

/**
 * Where an in-flight request is: `received` (not yet at its route handler: body parsing,
 * middleware), `handling` (in the handler, no upstream call running), `awaiting-upstream` (an
 * upstream call is running and has not streamed yet), `streaming` (a stream is delivering chunks)
 * or `writing` (the response has started and no upstream call is running).
 */
export type InflightState = 'received' | 'handling' | 'awaiting-upstream' | 'streaming' | 'writing';

/** One request or top-level call in flight, as the introspection API reports it. */
export interface InflightSnapshot {
  kind: 'request' | 'call';
  /** The request id: the one forwarded upstream and written in logs. */
  id: string;
  /** `POST /v1/chat/completions`; for a call not made by a request, undefined. */
  route?: string;
  /** The provider and model of the running upstream call, if there is one. */
  provider?: string;
  model?: string;
  state: InflightState;
  ageMs: number;
}

/** One upstream call made through `InferenceService`. */
export class InflightCall implements CallTracking {
  state: 'awaiting-upstream' | 'streaming' = 'awaiting-upstream';
  abandoned = false;

  constructor(
    readonly requestId: string,
    readonly provider: string,
    readonly model: string,
    readonly startedAt: number,
    /** The in-flight request that made the call, if any. */
    readonly parent: InflightRequest | undefined,
    /** Stops the call with a shutdown error. */
    readonly stop: (retryAfterMs: number) => void,
    private readonly onEnd: (call: InflightCall) => void,
  ) {}

  streaming(): void {
    this.state = 'streaming';
  }

  end(): void {
    this.onEnd(this);
  }
}

/**
 * One HTTP request, from its arrival until its response is written or its client is gone. It is
 * a `CancelSource` for the calls made for it: they listen to it directly, and only code that asks
 * for `signal` gets an `AbortController`.
 */
export class InflightRequest implements CancelSource {
  /** Set by the interceptor once a route handles the request. */
  route: string | undefined;
  handled = false;
  abandoned = false;
  readonly calls = new Set<InflightCall>();
  #id: string | undefined;
  #abort: AbortController | undefined;
  #clientGone = false;
  #onGone: Set<() => void> | undefined;

  constructor(
    /** The incoming `x-request-id` header, read only if no interceptor names the request. */
    private readonly incomingId: unknown,
    readonly method: string,
    readonly startedAt: number,
    readonly response: ServerResponse,
  ) {}

  /** The request id; set by the interceptor, else derived from the incoming header on demand. */
  get id(): string {
    return (this.#id ??= requestIdFrom(this.incomingId));
  }

  set id(id: string) {
    this.#id = id;
  }

  /**
   * Aborted when the client goes away before its response is complete; never when the response
   * was written. Created on first use, so a request that makes no call pays nothing for it.
   */
  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.#clientGone) this.#abort.abort(clientGoneReason());
    }
    return this.#abort.signal;
  }

  /** True once the client is gone before its response was complete. */
  get aborted(): boolean {
    return this.#clientGone;
  }

  /**
   * Calls `listener` once, when the client goes away before its response is complete. As on an
   * `EventTarget`, a listener added twice runs once.
   */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.#clientGone) (this.#onGone ??= new Set()).add(listener);
  }

  /** As on an `EventTarget`, a listener removed while others run is not called. */
  removeEventListener(_type: 'abort', listener: () => void): void {
    this.#onGone?.delete(listener);
  }

  /** The response closed before it was complete: the client is gone. Aborts `signal`. */
  clientGone(): void {
    if (this.#clientGone) return;
    this.#clientGone = true;
    const listeners = this.#onGone;
    try {
      this.#abort?.abort(clientGoneReason());
    } finally {
      // As an EventTarget would: every listener runs, and one that throws is reported afterwards.
      // The set is iterated live, so one removed by an earlier listener is skipped.
      for (const listener of listeners ?? []) {
        listeners!.delete(listener);
        try {
          listener();
        } catch (error) {
          process.nextTick(() => {
            throw error;
          });
        }
      }
      this.#onGone = undefined;
    }
  }

  get state(): InflightState {
    let awaiting = false;
    for (const call of this.calls) {
      if (call.state === 'streaming') return 'streaming';
      awaiting = true;
    }
    if (awaiting) return 'awaiting-upstream';
    if (this.response.headersSent) return 'writing';
    return this.handled ? 'handling' : 'received';
  }
}

function clientGoneReason(): Error {
  return new DOMException(
    'The HTTP client closed the connection before its response was complete.',
    'AbortError',
  );
}
