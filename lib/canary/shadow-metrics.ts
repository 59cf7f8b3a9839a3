import type { AnswerQuality } from './answer-quality.js';
import { SUCCESS } from './call-outcome.js';
import {
  momentsFigures,
  SideMetrics,
  type QualityFigures,
  type SideSnapshot,
} from './side-metrics.js';

/** Why a stable call picked for mirroring was not mirrored. */
export const SHADOW_SKIPS = ['excluded', 'concurrency', 'spend', 'draining', 'cancelled'] as const;
export type ShadowSkip = (typeof SHADOW_SKIPS)[number];

/** One mirrored call next to the answer served for it. */
export interface ShadowPairObservation {
  streamed: boolean;
  /** Time to the answer (unary) or to the first chunk (streams), each side. */
  servedLatencyMs: number;
  canaryLatencyMs: number;
  servedTotalMs: number;
  canaryTotalMs: number;
  servedTokens?: number;
  canaryTokens?: number;
  servedUsd: number;
  canaryUsd: number;
  served: AnswerQuality;
  canary: AnswerQuality;
  finishReasonsMatch: boolean;
  /** Tool calls: undefined when the served answer made none. */
  toolNamesMatch?: boolean;
  similarity: number;
}

/** `[count, sum, sum of squares]`, mergeable across replicas. */
type Moments = [number, number, number];

/** What the shadow figures store and merge. */
export interface ShadowSnapshot {
  served: SideSnapshot;
  canary: SideSnapshot;
  skipped: Record<string, number>;
  /** Canary latency / served latency, as logarithms (geometric mean and its interval). */
  latencyLogRatio: Moments;
  tokensLogRatio: Moments;
  similarity: Moments;
  /** Stable against itself (a second stable call for the same request): the baseline. */
  baseline: Moments;
  comparator: Moments;
  comparatorFailures: number;
  finishMatches: number;
  toolPairs: number;
  toolNameMatches: number;
  baselineUsd: number;
}

/** An estimate with its two-sided interval at the rollout's confidence. */
export interface Estimate {
  count: number;
  value: number;
  low: number;
  high: number;
}

/** The shadow section of the report: each comparison with its interval. */
export interface ShadowFigures {
  /** Mirrored calls compared (the canary answered); failed ones are in `canaryFailures`. */
  pairs: number;
  canaryFailures: number;
  skipped: Partial<Record<ShadowSkip, number>>;
  /** Canary / served, geometric mean over pairs: first chunk for streams, answer for unary. */
  latencyRatio: Estimate;
  outputTokensRatio: Estimate;
  /** Word-set similarity of the canary's answer to the served one, and of stable's to itself. */
  similarity: Estimate;
  baselineSimilarity: Estimate;
  finishReasonMatch: Estimate;
  toolNameMatch: Estimate;
  comparator: Estimate & { failures: number };
  quality: { served: QualityFigures; canary: QualityFigures };
  /** Spent on mirroring (canary, and stable asked again for the baseline): never the caller's. */
  costUsd: { canary: number; baseline: number; served: number };
}

/**
 * A phase's shadow comparisons: both sides as `SideMetrics` (successes with their quality, the
 * canary's failures, cost) and the paired measures as mergeable moments. Fixed memory.
 */
export class ShadowMetrics {
  readonly served = new SideMetrics();
  readonly canary = new SideMetrics();
  readonly #skipped = new Map<string, number>();
  readonly #latency: Moments = [0, 0, 0];
  readonly #tokens: Moments = [0, 0, 0];
  readonly #similarity: Moments = [0, 0, 0];
  readonly #baseline: Moments = [0, 0, 0];
  readonly #comparator: Moments = [0, 0, 0];
  #comparatorFailures = 0;
  #finishMatches = 0;
  #toolPairs = 0;
  #toolNameMatches = 0;
  #baselineUsd = 0;

  get pairs(): number {
    return this.#similarity[0];
  }

  record(pair: ShadowPairObservation): void {
    this.served.record(SUCCESS, pair.servedLatencyMs, pair.servedUsd, {
      streamed: pair.streamed,
      quality: pair.served,
    });
    this.canary.record(SUCCESS, pair.canaryLatencyMs, pair.canaryUsd, {
      streamed: pair.streamed,
      quality: pair.canary,
    });
    if (pair.servedLatencyMs > 0 && pair.canaryLatencyMs > 0) {
      add(this.#latency, Math.log(pair.canaryLatencyMs / pair.servedLatencyMs));
    }
    if (pair.servedTokens && pair.canaryTokens) {
      add(this.#tokens, Math.log(pair.canaryTokens / pair.servedTokens));
    }
    add(this.#similarity, pair.similarity);
    if (pair.finishReasonsMatch) this.#finishMatches++;
    if (pair.toolNamesMatch !== undefined) {
      this.#toolPairs++;
      if (pair.toolNamesMatch) this.#toolNameMatches++;
    }
  }

  /** A mirrored call the canary failed (provider fault): `outcome` from `outcomeOf`. */
  recordFailure(outcome: number, costUsd: number): void {
    this.canary.record(outcome, 0, costUsd);
  }

  recordBaseline(similarity: number, costUsd: number): void {
    add(this.#baseline, similarity);
    this.#baselineUsd += costUsd;
  }

  recordComparison(score: number | undefined): void {
    if (score === undefined) this.#comparatorFailures++;
    else add(this.#comparator, score);
  }

  skip(reason: ShadowSkip): void {
    this.#skipped.set(reason, (this.#skipped.get(reason) ?? 0) + 1);
  }

  /** Similarity of canary to served, and of stable to itself: count, mean, sd. */
  similarityFigures(): {
    canary: ReturnType<typeof momentsFigures>;
    baseline: ReturnType<typeof momentsFigures>;
  } {
    return {
      canary: momentsFigures(...this.#similarity),
      baseline: momentsFigures(...this.#baseline),
    };
  }

  latencyLogRatio(): ReturnType<typeof momentsFigures> {
    return momentsFigures(...this.#latency);
  }

  figures(z: number): ShadowFigures {
    const canary = this.canary.figures();
    const served = this.served.figures();
    const skipped: Partial<Record<ShadowSkip, number>> = {};
    for (const [reason, count] of this.#skipped) skipped[reason as ShadowSkip] = count;
    return {
      pairs: this.pairs,
      canaryFailures: canary.calls - canary.successes,
      skipped,
      latencyRatio: ratioEstimate(this.#latency, z),
      outputTokensRatio: ratioEstimate(this.#tokens, z),
      similarity: meanEstimate(this.#similarity, z),
      baselineSimilarity: meanEstimate(this.#baseline, z),
      finishReasonMatch: shareEstimate(this.#finishMatches, this.pairs, z),
      toolNameMatch: shareEstimate(this.#toolNameMatches, this.#toolPairs, z),
      comparator: { ...meanEstimate(this.#comparator, z), failures: this.#comparatorFailures },
      quality: { served: served.quality, canary: canary.quality },
      costUsd: { canary: canary.costUsd, baseline: this.#baselineUsd, served: served.costUsd },
    };
  }

  snapshot(): ShadowSnapshot {
    return {
      served: this.served.snapshot(),
      canary: this.canary.snapshot(),
      skipped: Object.fromEntries(this.#skipped),
      latencyLogRatio: [...this.#latency],
      tokensLogRatio: [...this.#tokens],
      similarity: [...this.#similarity],
      baseline: [...this.#baseline],
      comparator: [...this.#comparator],
      comparatorFailures: this.#comparatorFailures,
      finishMatches: this.#finishMatches,
      toolPairs: this.#toolPairs,
      toolNameMatches: this.#toolNameMatches,
      baselineUsd: this.#baselineUsd,
    };
  }

  merge(snapshot: ShadowSnapshot): void {
    this.served.merge(snapshot.served);
    this.canary.merge(snapshot.canary);
    for (const [reason, count] of Object.entries(snapshot.skipped)) {
      this.#skipped.set(reason, (this.#skipped.get(reason) ?? 0) + count);
    }
    addMoments(this.#latency, snapshot.latencyLogRatio);
    addMoments(this.#tokens, snapshot.tokensLogRatio);
    addMoments(this.#similarity, snapshot.similarity);
    addMoments(this.#baseline, snapshot.baseline);
    addMoments(this.#comparator, snapshot.comparator);
    this.#comparatorFailures += snapshot.comparatorFailures;
    this.#finishMatches += snapshot.finishMatches;
    this.#toolPairs += snapshot.toolPairs;
    this.#toolNameMatches += snapshot.toolNameMatches;
    this.#baselineUsd += snapshot.baselineUsd;
  }
}

function add(moments: Moments, value: number): void {
  moments[0] += 1;
  moments[1] += value;
  moments[2] += value * value;
}

function addMoments(into: Moments, from: Moments | undefined): void {
  if (!from) return;
  into[0] += from[0];
  into[1] += from[1];
  into[2] += from[2];
}

function meanEstimate(moments: Moments, z: number): Estimate {
  const { count, mean, sd } = momentsFigures(...moments);
  const half = count > 1 ? (z * sd) / Math.sqrt(count) : 0;
  return { count, value: mean, low: mean - half, high: mean + half };
}

/** A geometric mean ratio from log-ratio moments: exp of the mean and of its interval. */
function ratioEstimate(moments: Moments, z: number): Estimate {
  const { count, value, low, high } = meanEstimate(moments, z);
  if (count === 0) return { count, value: 1, low: 1, high: 1 };
  return { count, value: Math.exp(value), low: Math.exp(low), high: Math.exp(high) };
}

function shareEstimate(count: number, total: number, z: number): Estimate {
  if (total === 0) return { count: 0, value: 0, low: 0, high: 1 };
  const share = count / total;
  const z2 = z * z;
  const centre = share + z2 / (2 * total);
  const margin = z * Math.sqrt((share * (1 - share)) / total + z2 / (4 * total * total));
  return {
    count: total,
    value: share,
    low: Math.max(0, (centre - margin) / (1 + z2 / total)),
    high: Math.min(1, (centre + margin) / (1 + z2 / total)),
  };
}
