import type { SideFigures } from './side-metrics.js';

/** What a healthy side looks like, and how sure the judge must be before it blames one. */
export interface JudgeCriteria {
  /** Fewest calls on a side before it is judged; below it the verdict is HOLD. */
  minSamples: number;
  /** Highest acceptable share of calls failing with a provider fault (0..1). */
  maxErrorRate: number;
  /** Lowest acceptable share of successful calls (0..1); timeouts and rate limits count here. */
  minSuccessRate: number;
  /** Highest acceptable p99 latency: more than 1% of calls slower than this is a breach. */
  maxP99Ms: number;
  /** One-sided confidence (0.5..0.9999) needed to call a threshold breached. */
  confidence: number;
}

export type VerdictKind = 'hold' | 'pass' | 'fail' | 'incident';

export interface Verdict {
  kind: VerdictKind;
  /** Why, in words: which thresholds were breached and by how much, or what is missing. */
  reasons: string[];
}

/** The share of calls allowed above `maxP99Ms`: p99 ≤ T means at most 1% are slower than T. */
const P99_TAIL = 0.01;

/**
 * One interval's judgement of the canary against its thresholds, with the stable side as
 * control. A side breaches a threshold only when the data says so with `confidence`: the
 * Wilson lower bound of its bad share is above the allowed share. So a small, noisy sample
 * never rolls back; too few samples HOLD; and when the stable side fails calls too (error or
 * success rate), the fault is in what both share, not in the canary: INCIDENT.
 */
export function judge(canary: SideFigures, stable: SideFigures, criteria: JudgeCriteria): Verdict {
  if (canary.calls < criteria.minSamples) {
    return {
      kind: 'hold',
      reasons: [`the canary has ${canary.calls} of the ${criteria.minSamples} calls needed`],
    };
  }
  const z = zScore(criteria.confidence);
  const faults = faultBreaches(canary, criteria, z);
  const slow = latencyBreach(canary, criteria, z);
  if (faults.length === 0 && !slow) {
    return { kind: 'pass', reasons: ['the canary meets every threshold'] };
  }
  const reasons = [...faults, ...(slow ? [slow] : [])].map((reason) => `canary ${reason}`);
  // Failing calls on both sides point at something they share: an incident, not the canary.
  const stableFaults =
    faults.length > 0 && stable.calls >= criteria.minSamples
      ? faultBreaches(stable, criteria, z)
      : [];
  if (stableFaults.length > 0) {
    return {
      kind: 'incident',
      reasons: [...stableFaults.map((reason) => `stable ${reason}`), ...reasons],
    };
  }
  return { kind: 'fail', reasons };
}

/** Error rate and success rate: the provider failing calls. */
function faultBreaches(side: SideFigures, criteria: JudgeCriteria, z: number): string[] {
  const breaches: string[] = [];
  const level = percent(criteria.confidence);
  const errorBound = wilsonLower(side.errors, side.calls, z);
  if (errorBound > criteria.maxErrorRate) {
    breaches.push(
      `error rate ${percent(side.errorRate)} (at least ${percent(errorBound)} at ${level} confidence) is above ${percent(criteria.maxErrorRate)}`,
    );
  }
  const failureBound = wilsonLower(side.calls - side.successes, side.calls, z);
  if (failureBound > 1 - criteria.minSuccessRate) {
    breaches.push(
      `success rate ${percent(side.successRate)} (at most ${percent(1 - failureBound)} at ${level} confidence) is below ${percent(criteria.minSuccessRate)}`,
    );
  }
  return breaches;
}

/**
 * p99 ≤ T, judged as "at most 1% of calls slower than T". Only the canary is held to it: the
 * stable provider may be slower by design (it is often why teams migrate).
 */
function latencyBreach(side: SideFigures, criteria: JudgeCriteria, z: number): string | undefined {
  const slowBound = wilsonLower(side.slow, side.timed, z);
  if (slowBound <= P99_TAIL) return undefined;
  return `p99 ${Math.round(side.p99Ms)} ms is above ${criteria.maxP99Ms} ms (${percent(side.slow / side.timed)} of calls slower, at least ${percent(slowBound)} at ${percent(criteria.confidence)} confidence)`;
}

/** The Wilson score interval's lower bound for `successes` out of `trials` at `z`. */
export function wilsonLower(successes: number, trials: number, z: number): number {
  if (trials === 0) return 0;
  const share = successes / trials;
  const z2 = z * z;
  const centre = share + z2 / (2 * trials);
  const margin = z * Math.sqrt((share * (1 - share)) / trials + z2 / (4 * trials * trials));
  return Math.max(0, (centre - margin) / (1 + z2 / trials));
}

/**
 * The standard normal quantile for a one-sided confidence (Acklam's rational approximation,
 * accurate to about 1e-9 over 0.5..0.9999).
 */
export function zScore(confidence: number): number {
  if (confidence > 0.97575) {
    const q = Math.sqrt(-2 * Math.log(1 - confidence));
    return (
      -(
        ((((-7.784894002430293e-3 * q - 3.223964580411365e-1) * q - 2.400758277161838) * q -
          2.549732539343734) *
          q +
          4.374664141464968) *
          q +
        2.938163982698783
      ) /
      ((((7.784695709041462e-3 * q + 3.224671290700398e-1) * q + 2.445134137142996) * q +
        3.754408661907416) *
        q +
        1)
    );
  }
  const r0 = confidence - 0.5;
  const r = r0 * r0;
  return (
    ((((((-3.969683028665376e1 * r + 2.209460984245205e2) * r - 2.759285104469687e2) * r +
      1.38357751867269e2) *
      r -
      3.066479806614716e1) *
      r +
      2.506628277459239) *
      r0) /
    (((((-5.447609879822406e1 * r + 1.615858368580409e2) * r - 1.556989798598866e2) * r +
      6.680131188771972e1) *
      r -
      1.328068155288572e1) *
      r +
      1)
  );
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 2 : 1)}%`;
}
