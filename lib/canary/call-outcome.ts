import { faultOf, InferenceError, type CallerBudgets } from '../errors/index.js';

/**
 * What the judge counts of a call: a success, a failure with its error code, or the canary's
 * incompatibility. Only the provider's faults count as failures (`faultOf`): calls the caller
 * cancelled (or whose own deadline ran out), calls stopped by the app's own shutdown and requests
 * at fault say nothing about the provider (`undefined`).
 *
 * Codes are only ever appended: replicas of two versions merge their counts by index.
 */
export const OUTCOME_CODES = [
  'success',
  'upstream_http_error',
  'upstream_connection_error',
  'upstream_protocol_error',
  'upstream_stream_error',
  'upstream_stream_incomplete',
  'upstream_timeout',
  'upstream_rate_limited',
  'other',
  /** The canary refused (4xx) a request that the stable provider then served. */
  'canary_incompatible',
] as const;

export type OutcomeCode = (typeof OUTCOME_CODES)[number];

const INDEX = new Map<string, number>(OUTCOME_CODES.map((code, index) => [code, index]));
export const SUCCESS = 0;
const OTHER = INDEX.get('other')!;
export const TIMEOUT = INDEX.get('upstream_timeout')!;
export const RATE_LIMITED = INDEX.get('upstream_rate_limited')!;
export const INCOMPATIBLE = INDEX.get('canary_incompatible')!;

/**
 * The index of a call's outcome in `OUTCOME_CODES`; undefined when the call is not judged.
 * `callerBudgets` are the call's own timeouts: a deadline the caller chose is not the provider's.
 */
export function outcomeOf(error: unknown, callerBudgets?: CallerBudgets): number | undefined {
  if (error === undefined) return SUCCESS;
  if (faultOf(error, callerBudgets) !== 'provider') return undefined;
  return error instanceof InferenceError ? (INDEX.get(error.code) ?? OTHER) : OTHER;
}

/**
 * Whether an outcome counts towards the error rate. Timeouts and rate limits count against the
 * success rate only: they are slowness and quota, not faults. An incompatibility is its own rate.
 */
export function isError(outcome: number): boolean {
  return (
    outcome !== SUCCESS &&
    outcome !== TIMEOUT &&
    outcome !== RATE_LIMITED &&
    outcome !== INCOMPATIBLE
  );
}

/** Whether an outcome is the provider failing the call: errors, timeouts and rate limits. */
export function isProviderFailure(outcome: number): boolean {
  return outcome !== SUCCESS && outcome !== INCOMPATIBLE;
}
