import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import type { InflightRequest } from '../lifecycle/inflight-request.js';
import type { ModelSelection } from '../model/model-selection.js';

/** What the module knows about the HTTP request being handled, for the calls made under it. */
export interface InferenceRequestContext {
  /** The incoming `x-request-id` when it was usable, otherwise a generated one. */
  requestId: string;
  /** The incoming request's headers (not copied): the router reads the sticky key from them. */
  headers?: IncomingHttpHeaders;
  /** The route's `@InferenceModel(...)`, used by calls that name no model. */
  model?: ModelSelection;
  /** The request's entry in the in-flight registry: calls made under it belong to it. */
  inflight?: InflightRequest;
  /**
   * Aborted when the HTTP client disconnects before its response is complete (never once the
   * response was written). Every `InferenceService` call made for the request listens to it; pass
   * it to the application's own work too (`fetch`, database drivers, timers).
   */
  signal?: AbortSignal;
}

const storage = new AsyncLocalStorage<InferenceRequestContext>();

/** The context of the request being handled, if the code runs under one. */
export function currentRequestContext(): InferenceRequestContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `context` as the current request context, across every `await` inside it. */
export function runWithRequestContext<T>(context: InferenceRequestContext, fn: () => T): T {
  return storage.run(context, fn);
}
