import {
  percent,
  qualityBreaches,
  round,
  wilsonLower,
  type JudgeCriteria,
  type Verdict,
} from './judge.js';
import type { ShadowMetrics } from './shadow-metrics.js';

export interface ShadowGateCriteria {
  minPairs: number;
  maxSimilarityDrop: number;
  minBaselinePairs: number;
}

/**
 * The verdict on a shadow phase (no user served by the canary): the mirrored answers against
 * the ones served, pair by pair. Fewer than `minPairs` pairs → HOLD. The canary fails the gate
 * when, with the judge's confidence, its quality signals (empty, truncated, filtered, invalid
 * JSON, unparsable tool arguments) are more frequent than stable's by more than
 * `maxQualityRateIncrease`; it fails more calls than `maxSuccessRateDrop`; its answers are less
 * similar to the served ones than stable's are to themselves by more than `maxSimilarityDrop`;
 * or its latency (geometric mean ratio over pairs) is above `maxLatencyRatio`.
 */
export function judgeShadow(
  shadow: ShadowMetrics,
  gate: ShadowGateCriteria,
  criteria: JudgeCriteria,
  z: number,
): Verdict {
  const pairs = shadow.pairs;
  if (pairs < gate.minPairs) {
    return {
      kind: 'hold',
      reasons: [`the shadow gate has ${pairs} of the ${gate.minPairs} compared pairs needed`],
    };
  }
  const level = percent(criteria.confidence);
  const breaches = qualityBreaches(
    shadow.canary,
    shadow.served,
    { ...criteria, minSamples: gate.minPairs },
    z,
  );
  const canary = shadow.canary.figures();
  const failed = canary.providerFailures;
  const failureBound = wilsonLower(failed, canary.calls, z);
  if (failureBound > criteria.maxSuccessRateDrop) {
    breaches.push(
      `failed ${percent(failed / canary.calls)} of mirrored calls (at least ${percent(failureBound)} at ${level} confidence), above the ${percent(criteria.maxSuccessRateDrop)} allowed`,
    );
  }
  const { canary: similar, baseline } = shadow.similarityFigures();
  if (baseline.count >= gate.minBaselinePairs) {
    const se = Math.sqrt(
      (similar.sd * similar.sd) / similar.count + (baseline.sd * baseline.sd) / baseline.count,
    );
    const drop = baseline.mean - similar.mean - z * se;
    if (drop > gate.maxSimilarityDrop) {
      breaches.push(
        `answers are ${round(similar.mean)} similar to the served ones, against ${round(baseline.mean)} for stable with itself: at least ${round(drop)} lower at ${level} confidence, above the ${gate.maxSimilarityDrop} allowed`,
      );
    }
  }
  const latency = shadow.latencyLogRatio();
  if (latency.count >= gate.minPairs) {
    const lower = latency.mean - (z * latency.sd) / Math.sqrt(latency.count);
    if (lower > Math.log(criteria.maxLatencyRatio)) {
      breaches.push(
        `is ${round(Math.exp(latency.mean))}× stable's latency on the same requests (at least ${round(Math.exp(lower))}× at ${level} confidence), above ${criteria.maxLatencyRatio}×`,
      );
    }
  }
  if (breaches.length > 0) {
    return { kind: 'fail', reasons: breaches.map((reason) => `shadow gate: canary ${reason}`) };
  }
  return {
    kind: 'pass',
    reasons: [`the shadow gate passed (${pairs} pairs compared)`],
  };
}
