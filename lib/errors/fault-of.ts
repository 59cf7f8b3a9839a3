import type { CallTimeoutOptions } from '../rules/index.js';
import { InferenceError, InferenceTimeoutError, type FailurePhase } from './inference.error.js';

/**
 * Whose fault a failed call is, decided once, here, for everything that reads it: retries and
 * fallback, provider health, the canary judge and metrics.
 * - `provider`: the provider failed (5xx, 429, 408, 409, timeouts, resets, malformed answers), or
 *   refused the gateway's own account with it: its credentials (401, 403), its credit (402), its
 *   proxy credentials (407). The HTTP mapping answers those 502 (`httpStatusOf`).
 * - `client`: the request was at fault (invalid before it was sent, or a 4xx about its content);
 *   another provider would likely refuse it too.
 * - `cancelled`: the caller went away, or the application stopped the call while shutting down;
 *   says nothing about anyone.
 */
export type Fault = 'provider' | 'client' | 'cancelled';

/**
 * The budgets a call chose for itself (its own `timeouts`, or its route's), not the provider's
 * configured ones. Running out of one of them is the caller's deadline.
 */
export type CallerBudgets = CallTimeoutOptions;

/**
 * Upstream statuses about the gateway's own account with the provider (its credentials, its
 * credit, its proxy), not about the client's request. `httpStatusOf` answers them 502.
 */
export const GATEWAY_ACCOUNT_STATUSES: ReadonlySet<number> = new Set([401, 402, 403, 407]);

/**
 * 4xx statuses that are the provider's problem, not the request's: another provider would likely
 * serve the same request, so a canary falls back and is judged for them.
 */
const PROVIDER_4XX: ReadonlySet<number> = new Set([...GATEWAY_ACCOUNT_STATUSES, 408, 409, 429]);

/**
 * The fault of a failure; anything that is not an `InferenceError` is the provider's. With
 * `callerBudgets`, a timeout of a budget the caller chose is the caller giving up (`cancelled`):
 * a deadline tighter than the generation says nothing about the provider.
 */
export function faultOf(error: unknown, callerBudgets?: CallerBudgets): Fault {
  if (!(error instanceof InferenceError)) return 'provider';
  if (error.phase === 'aborted' || error.phase === 'shutdown') return 'cancelled';
  if (error.phase === 'request') return 'client';
  if (callerBudgets && error instanceof InferenceTimeoutError && ranOutOf(error, callerBudgets)) {
    return 'cancelled';
  }
  const status = error.status;
  if (status !== undefined && status >= 400 && status < 500 && !PROVIDER_4XX.has(status)) {
    return 'client';
  }
  return 'provider';
}

/** The budget each timeout phase runs out of. */
const BUDGET_OF_PHASE: Partial<Record<FailurePhase, keyof CallerBudgets>> = {
  deadline: 'totalMs',
  headers: 'headersMs',
  'first-chunk': 'firstChunkMs',
  idle: 'idleMs',
};

function ranOutOf(error: InferenceTimeoutError, budgets: CallerBudgets): boolean {
  const budget = BUDGET_OF_PHASE[error.phase];
  return budget !== undefined && budgets[budget] !== undefined;
}
