import { budget, duration } from './option-rules.js';
import { isDict, type At, type Option, type Rule } from './option-table.js';

/**
 * What bounds a call. A unary call's response headers usually come only when the whole
 * generation is done, so a unary call is bounded by `totalMs` until they arrive (and by `headersMs`
 * if you set it), then by `idleMs` between body reads. A stream is bounded by `firstChunkMs` until
 * its first chunk, then by `idleMs` between chunks. SSE comments (`: keep-alive`) are not progress:
 * they reset neither budget. `totalMs` bounds everything: attempts, backoff and a fallback.
 */
export interface TimeoutOptions {
  /** Opening a TCP/TLS connection. Default 5,000 ms. */
  connectMs: number;
  /**
   * From sending the request to the response headers, for unary calls and streams. Default 0:
   * no bound of its own (a unary generation may take minutes before its headers); set it when
   * your provider sends headers at once.
   */
  headersMs: number;
  /** Streams: from sending the request to the first chunk (comments do not count). Default 60,000 ms. */
  firstChunkMs: number;
  /** Longest silence between two body reads, or two stream chunks. Default 30,000 ms. */
  idleMs: number;
  /** The whole call: retries, backoff and a canary's fallback included. Default 120,000 ms. */
  totalMs: number;
}

/** A timeout: a provider's rule (whole ms) and, if a call or a route may set it, theirs. */
interface Timeout extends Option<number, number> {
  readonly perCall?: Rule<number>;
}

/**
 * The timeouts, for providers, calls and routes alike. `0` turns `headersMs` off. `perCall`: a
 * call (its options) or a route (its `@InferenceModel`) may set the budget, fractions allowed;
 * `connectMs` belongs to the provider's connection pool.
 */
export const TIMEOUTS = {
  connectMs: { rule: duration(), default: 5_000 },
  headersMs: { rule: duration(0), default: 0, perCall: budget(true) },
  firstChunkMs: { rule: duration(), default: 60_000, perCall: budget() },
  idleMs: { rule: duration(), default: 30_000, perCall: budget() },
  totalMs: { rule: duration(), default: 120_000, perCall: budget() },
} satisfies { readonly [K in keyof TimeoutOptions]-?: Timeout };

type CallTimeoutField = {
  [K in keyof typeof TIMEOUTS]: (typeof TIMEOUTS)[K] extends { perCall: Rule<number> } ? K : never;
}[keyof typeof TIMEOUTS];

/** The budgets a single call may override (those with a `perCall` rule). */
export const CALL_TIMEOUT_FIELDS = (Object.keys(TIMEOUTS) as (keyof TimeoutOptions)[]).filter(
  (field): field is CallTimeoutField => 'perCall' in TIMEOUTS[field],
);

/** What a call may override of its provider's timeouts (see `CALL_TIMEOUT_FIELDS`). */
export type CallTimeoutOptions = Partial<Pick<TimeoutOptions, CallTimeoutField>>;

/**
 * Checks the budgets a call or a route sets (`where`): only the per-call fields, each by its
 * per-call rule. Routes (at startup) and calls share it, so a route's budget is never refused
 * by its calls.
 */
export function checkBudgets(timeouts: unknown, at: At, where: 'call' | 'route'): void {
  if (timeouts === undefined || timeouts === null) return;
  if (!isDict(timeouts)) {
    at.fail(`must be an object of budgets in ms, for example { totalMs: 30000 }.`);
    return;
  }
  for (const [field, value] of Object.entries(timeouts)) {
    const rule = (CALL_TIMEOUT_FIELDS as readonly string[]).includes(field)
      ? TIMEOUTS[field as CallTimeoutField].perCall
      : undefined;
    if (rule) rule(value, at.child(field));
    else
      at.child(field).fail(
        `is not supported: only ${CALL_TIMEOUT_FIELDS.join(', ')} can be set per ${where} (${field} is set per provider).`,
      );
  }
}
