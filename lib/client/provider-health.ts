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
  }

  failed(error: unknown): void {
    if (faultOf(error) !== 'provider') return;
    this.#consecutiveFailures++;
    this.#lastFailure = (error as { code?: string }).code ?? 'other';
  }
}
