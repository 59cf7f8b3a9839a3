import { InferenceError } from './inference.error.js';

/**
 * Whose fault a failed call is, decided once, here, for everything that reads it: retries and
 * fallback, provider health, the canary judge and metrics.
 * - `provider`: the provider failed (5xx, 429, 408, timeouts, resets, malformed answers, its
 *   refusal of the gateway's own credentials).
 * - `client`: the request was at fault (invalid before it was sent, or a 4xx about its content);
 *   another provider would likely refuse it too.
 * - `cancelled`: the caller went away, or the application stopped the call while shutting down;
 *   says nothing about anyone.
 */
export type Fault = 'provider' | 'client' | 'cancelled';

/** 4xx statuses that are the provider's problem, not the request's. */
const PROVIDER_4XX: ReadonlySet<number> = new Set([401, 403, 408, 409, 429]);

/** The fault of a failure; anything that is not an `InferenceError` is the provider's. */
export function faultOf(error: unknown): Fault {
  if (!(error instanceof InferenceError)) return 'provider';
  if (error.phase === 'aborted' || error.phase === 'shutdown') return 'cancelled';
  if (error.phase === 'request') return 'client';
  const status = error.status;
  if (status !== undefined && status >= 400 && status < 500 && !PROVIDER_4XX.has(status)) {
    return 'client';
  }
  return 'provider';
}
