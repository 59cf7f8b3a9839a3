import { LogHistogram } from '../stats/log-histogram.js';
import { isError, OUTCOME_CODES, SUCCESS, type OutcomeCode } from './call-outcome.js';

/** One side's figures in a form that can be stored and merged across replicas. */
export interface SideSnapshot {
  /** Calls by outcome, in the order of `OUTCOME_CODES`. */
  counts: number[];
  /** The latency sketch of successful calls, as `[bucket, count]` pairs. */
  latency: [number, number][];
  costUsd: number;
}

/** What the judge and the status API read of one side. */
export interface SideFigures {
  calls: number;
  successes: number;
  errors: number;
  /** Successful calls slower than the p99 threshold. */
  slow: number;
  /** Successful calls with a latency (all of them). */
  timed: number;
  errorRate: number;
  successRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Failed calls by error code; codes with no failure are left out. */
  failures: Partial<Record<OutcomeCode, number>>;
  /** What the side's calls cost in the phase, cancelled ones included (US dollars). */
  costUsd: number;
  /** `costUsd` per 1,000 judged calls: the figure to compare the two providers on. */
  costPer1000Requests: number;
}

/**
 * The calls of one side (stable or canary) in one phase: a counter per outcome and a log-bucket
 * latency sketch. Recording is O(1) and allocates nothing; memory is fixed (about 4 KiB) however
 * many calls are recorded. Latency is the time until the caller had an answer: the whole call
 * when unary, the first chunk when streamed.
 */
export class SideMetrics {
  readonly #counts = new Float64Array(OUTCOME_CODES.length);
  readonly #latency = new LogHistogram();
  #costUsd = 0;

  record(outcome: number, latencyMs: number, costUsd = 0): void {
    this.#counts[outcome]! += 1;
    this.#costUsd += costUsd;
    if (outcome === SUCCESS) this.#latency.record(latencyMs);
  }

  /** The cost of a call that is not judged (the caller cancelled it). */
  addCost(costUsd: number): void {
    this.#costUsd += costUsd;
  }

  get calls(): number {
    let calls = 0;
    for (const count of this.#counts) calls += count;
    return calls;
  }

  figures(p99ThresholdMs: number): SideFigures {
    const calls = this.calls;
    const successes = this.#counts[SUCCESS]!;
    let errors = 0;
    const failures: Partial<Record<OutcomeCode, number>> = {};
    for (let outcome = 1; outcome < OUTCOME_CODES.length; outcome++) {
      const count = this.#counts[outcome]!;
      if (count === 0) continue;
      failures[OUTCOME_CODES[outcome]!] = count;
      if (isError(outcome)) errors += count;
    }
    return {
      calls,
      successes,
      errors,
      slow: this.#latency.countAbove(p99ThresholdMs),
      timed: this.#latency.count,
      errorRate: calls === 0 ? 0 : errors / calls,
      successRate: calls === 0 ? 1 : successes / calls,
      p50Ms: this.#latency.quantile(0.5),
      p95Ms: this.#latency.quantile(0.95),
      p99Ms: this.#latency.quantile(0.99),
      failures,
      costUsd: this.#costUsd,
      costPer1000Requests: calls === 0 ? 0 : (this.#costUsd / calls) * 1000,
    };
  }

  snapshot(): SideSnapshot {
    return {
      counts: Array.from(this.#counts),
      latency: this.#latency.toSparse(),
      costUsd: this.#costUsd,
    };
  }

  /** Adds another replica's figures (from `snapshot()`) to these. */
  merge(snapshot: SideSnapshot): void {
    const length = Math.min(snapshot.counts.length, this.#counts.length);
    for (let outcome = 0; outcome < length; outcome++) {
      const count = snapshot.counts[outcome]!;
      if (count > 0) this.#counts[outcome]! += count;
    }
    this.#latency.mergeSparse(snapshot.latency);
    if (snapshot.costUsd > 0) this.#costUsd += snapshot.costUsd;
  }
}
