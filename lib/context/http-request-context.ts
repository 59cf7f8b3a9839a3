import type { IncomingHttpHeaders } from 'node:http';
import type { CancelSource } from '../client/cancel-source.js';
import type { InflightRequest } from '../lifecycle/inflight-request.js';
import type { ModelSelection } from '../model/model-selection.js';
import type { InferenceRequestContext } from './request-context.js';

/**
 * The context the interceptor opens for an HTTP request. Its `signal` is the in-flight request's,
 * made on first read: the calls made for the request listen to the request itself
 * (`cancelSource`), so a request whose code never reads `signal` costs no `AbortController`.
 * Assigning `signal` replaces it, for the calls too.
 */
export class HttpRequestContext implements InferenceRequestContext {
  model?: ModelSelection;
  #signal: AbortSignal | undefined;
  #ownSignal = false;

  constructor(
    public requestId: string,
    public headers: IncomingHttpHeaders,
    public inflight: InflightRequest,
  ) {}

  get signal(): AbortSignal | undefined {
    return this.#ownSignal ? this.#signal : this.inflight.signal;
  }

  set signal(signal: AbortSignal | undefined) {
    this.#ownSignal = true;
    this.#signal = signal;
  }

  /** What the calls made under this context listen to for their cancellation. */
  get cancelSource(): CancelSource | undefined {
    return this.#ownSignal ? this.#signal : this.inflight;
  }
}

/** What a call made under `context` listens to for its cancellation. */
export function cancelSourceOf(
  context: InferenceRequestContext | undefined,
): CancelSource | undefined {
  return context instanceof HttpRequestContext ? context.cancelSource : context?.signal;
}
