import { faultOf, InferenceError } from '../errors/index.js';

/**
 * What the judge counts of a call: a success, or a failure with its error code. Only the
 * provider's faults count (`faultOf`): calls the caller cancelled, calls stopped by the app's own
 * shutdown and requests at fault say nothing about the provider (`undefined`).
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
] as const;

export type OutcomeCode = (typeof OUTCOME_CODES)[number];

const INDEX = new Map<string, number>(OUTCOME_CODES.map((code, index) => [code, index]));
export const SUCCESS = 0;
const OTHER = OUTCOME_CODES.length - 1;
export const TIMEOUT = INDEX.get('upstream_timeout')!;
export const RATE_LIMITED = INDEX.get('upstream_rate_limited')!;

/** The index of a call's outcome in `OUTCOME_CODES`; undefined when the call is not judged. */
export function outcomeOf(error: unknown): number | undefined {
  if (error === undefined) return SUCCESS;
  if (faultOf(error) !== 'provider') return undefined;
  return error instanceof InferenceError ? (INDEX.get(error.code) ?? OTHER) : OTHER;
}

/**
 * Whether an outcome counts towards the error rate. Timeouts and rate limits count against the
 * success rate only: they are slowness and quota, not faults.
 */
export function isError(outcome: number): boolean {
  return outcome !== SUCCESS && outcome !== TIMEOUT && outcome !== RATE_LIMITED;
}
