import { faultOf } from '../errors/index.js';

/** Consecutive failed calls after which a provider counts as unusable, until one succeeds. */
export const UNUSABLE_AFTER_FAILURES = 5;

/**
 * Whether a provider looks usable, from the outcome of real calls and probes: it is not after
 * five calls in a row failed for the provider's own reasons (`faultOf(error) === 'provider'`).
 * Cancellations, bad requests and the app's own shutdown say nothing about the provider and are
 * not counted.
 */
export class ProviderHealth {
  #consecutiveFailures = 0;
  #lastFailure: string | undefined;
  /** The failures counted since the last success, so one can be excused once. */
  #counted = new WeakSet<object>();

  get usable(): boolean {
    return this.#consecutiveFailures < UNUSABLE_AFTER_FAILURES;
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /** The code of the last counted failure, such as `upstream_connection_error`. */
  get lastFailure(): string | undefined {
    return this.#lastFailure;
  }

  succeeded(): void {
    this.#consecutiveFailures = 0;
    this.#counted = new WeakSet();
  }

  failed(error: unknown): void {
    if (faultOf(error) !== 'provider') return;
    this.#consecutiveFailures++;
    this.#lastFailure = (error as { code?: string }).code ?? 'other';
    if (typeof error === 'object' && error !== null) this.#counted.add(error);
  }

  /**
   * Takes back a failure counted by `failed` that was not the provider's after all: a timeout
   * of a deadline the caller chose (`faultOf(error, callerBudgets)`), which the client cannot see.
   */
  excuse(error: unknown): void {
    if (typeof error !== 'object' || error === null || !this.#counted.has(error)) return;
    this.#counted.delete(error);
    this.#consecutiveFailures = Math.max(0, this.#consecutiveFailures - 1);
  }
}
