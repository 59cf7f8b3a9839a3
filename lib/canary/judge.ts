import { QUALITY_SIGNALS } from './answer-quality.js';
import {
  momentsFigures,
  type LatencyMeasure,
  type SideFigures,
  type SideMetrics,
} from './side-metrics.js';

/** How business feedback is judged: each name canary against stable, on the calls each served. */
export interface FeedbackCriteria {
  /** Fewest values of a name on each side before it is judged. */
  minSamples: number;
  /** How much lower (a share of stable's mean) the canary's mean may be. */
  maxRelativeDrop: number;
  /** Names where a lower value is better (returns, complaints); by default higher is better. */
  lowerIsBetter: readonly string[];
}

/**
 * What a healthy canary looks like next to stable, and how sure the judge must be before it
 * blames it. Every `max…Increase` / `max…Drop` is a margin on the difference canary − stable in
 * the same phase; the absolute ceilings are off unless set.
 */
export interface JudgeCriteria {
  /** Fewest judged calls on each side before the canary is judged; below it the verdict is HOLD. */
  minSamples: number;
  /** One-sided confidence (0.5..0.9999) needed to call a criterion breached. */
  confidence: number;
  /** How much higher the canary's error rate (provider faults) may be than stable's. */
  maxErrorRateIncrease: number;
  /** How much lower the canary's success rate (errors, timeouts, 429s) may be than stable's. */
  maxSuccessRateDrop: number;
  /** How much higher the canary's share of failed attempts (retries included) may be. */
  maxAttemptErrorRateIncrease: number;
  /**
   * How many times slower than stable the canary may be, at the median and at p95, on time to
   * first chunk (streams) and on duration per output token (unary calls).
   */
  maxLatencyRatio: number;
  /** Highest share of canary calls refused with a 4xx that stable then served. */
  maxIncompatibleRate: number;
  /**
   * A stable side failing more than this share of its calls is an incident in what both sides
   * share: a canary failing too is not blamed, the rollout pauses.
   */
  incidentFailureRate: number;
  /**
   * How much higher the canary's share of each quality signal (empty, truncated, filtered,
   * invalid JSON, unparsable tool arguments) may be than stable's.
   */
  maxQualityRateIncrease: number;
  /** Business feedback; not judged when undefined. */
  feedback?: FeedbackCriteria;
  /** Opt-in absolute ceilings on the canary alone (off when undefined). */
  maxErrorRate?: number;
  minSuccessRate?: number;
  /** More than 1% of canary calls slower than this (time to answer or first chunk) is a breach. */
  maxP99Ms?: number;
}

export type VerdictKind = 'hold' | 'pass' | 'fail' | 'incident';

export interface Verdict {
  kind: VerdictKind;
  /** Why, in words: which criteria were breached and by how much, or what is missing. */
  reasons: string[];
}

/** The share of calls allowed above `maxP99Ms`: p99 ≤ T means at most 1% are slower than T. */
const P99_TAIL = 0.01;
/** The quantiles at which the canary's latency is compared with stable's. */
const LATENCY_QUANTILES = [0.5, 0.95] as const;
const MEASURES: readonly { measure: LatencyMeasure; label: string; unit: string }[] = [
  { measure: 'firstChunk', label: 'time to first chunk', unit: 'ms' },
  { measure: 'perOutputToken', label: 'duration per output token', unit: 'ms/token' },
];

/**
 * One interval's judgement of the canary against the stable side, both in the same phase.
 * Rates are compared as the difference canary − stable: the canary is blamed only when the
 * lower bound of a Newcombe interval at `confidence` is above the allowed margin. So noise never
 * rolls back, a canary as good as stable never does, and too few samples HOLD. Latency is
 * compared on measures that do not punish longer answers (time to first chunk; duration per
 * output token). When stable fails calls too, the fault is in what both share: INCIDENT.
 */
export function judge(canary: SideMetrics, stable: SideMetrics, criteria: JudgeCriteria): Verdict {
  const c = canary.figures(criteria.maxP99Ms);
  const s = stable.figures(criteria.maxP99Ms);
  if (c.calls < criteria.minSamples) {
    return {
      kind: 'hold',
      reasons: [`the canary has ${c.calls} of the ${criteria.minSamples} calls needed`],
    };
  }
  if (s.calls < criteria.minSamples) {
    return {
      kind: 'hold',
      reasons: [
        `the stable side has ${s.calls} of the ${criteria.minSamples} calls needed to compare with`,
      ],
    };
  }
  const z = zScore(criteria.confidence);
  const breaches = [
    ...rateBreaches(c, s, criteria, z),
    ...latencyBreaches(canary, stable, criteria, z),
    ...ceilingBreaches(c, criteria, z),
    ...qualityBreaches(canary, stable, criteria, z),
    ...feedbackBreaches(canary, stable, criteria, z),
  ].map((reason) => `canary ${reason}`);
  const stableFailing = incidentOf(s, criteria, z);
  // Failing calls on both sides point at something they share: an incident, not the canary.
  if (stableFailing && (breaches.length > 0 || incidentOf(c, criteria, z))) {
    return { kind: 'incident', reasons: [`stable ${stableFailing}`, ...breaches] };
  }
  if (breaches.length > 0) return { kind: 'fail', reasons: breaches };
  return {
    kind: 'pass',
    reasons: [`the canary is as good as stable (${c.calls} and ${s.calls} calls compared)`],
  };
}

/** Error, success, attempt and incompatibility rates, each against its margin. */
function rateBreaches(
  c: SideFigures,
  s: SideFigures,
  criteria: JudgeCriteria,
  z: number,
): string[] {
  const breaches: string[] = [];
  const level = percent(criteria.confidence);
  const compare = (
    name: string,
    canaryCount: number,
    canaryTotal: number,
    stableCount: number,
    stableTotal: number,
    margin: number,
  ) => {
    if (canaryTotal === 0 || stableTotal === 0) return;
    const lower = newcombeLower(canaryCount, canaryTotal, stableCount, stableTotal, z);
    if (lower <= margin) return;
    breaches.push(
      `${name} ${percent(canaryCount / canaryTotal)} against stable's ${percent(stableCount / stableTotal)}: at least ${points(lower)} higher at ${level} confidence, above the ${points(margin)} allowed`,
    );
  };
  compare('error rate', c.errors, c.calls, s.errors, s.calls, criteria.maxErrorRateIncrease);
  compare(
    'failure rate (1 − success rate)',
    c.providerFailures,
    c.calls,
    s.providerFailures,
    s.calls,
    criteria.maxSuccessRateDrop,
  );
  if (c.attempts >= criteria.minSamples && s.attempts >= criteria.minSamples) {
    compare(
      'attempt error rate',
      c.failedAttempts,
      c.attempts,
      s.failedAttempts,
      s.attempts,
      criteria.maxAttemptErrorRateIncrease,
    );
  }
  const incompatible = wilsonLower(c.incompatible, c.calls, z);
  if (incompatible > criteria.maxIncompatibleRate) {
    breaches.push(
      `incompatibility rate ${percent(c.incompatibleRate)} (4xx for requests stable served; at least ${percent(incompatible)} at ${level} confidence) is above ${percent(criteria.maxIncompatibleRate)}`,
    );
  }
  return breaches;
}

/**
 * Latency at the median and p95, canary against stable: with T = `maxLatencyRatio` × stable's
 * quantile q, a canary no slower than that has at most the share of stable calls above stable's
 * own quantile above T. The canary is blamed when its share is higher with confidence.
 */
function latencyBreaches(
  canary: SideMetrics,
  stable: SideMetrics,
  criteria: JudgeCriteria,
  z: number,
): string[] {
  const breaches: string[] = [];
  for (const { measure, label, unit } of MEASURES) {
    const canaryCount = canary.count(measure);
    const stableCount = stable.count(measure);
    if (canaryCount < criteria.minSamples || stableCount < criteria.minSamples) continue;
    for (const q of LATENCY_QUANTILES) {
      const stableQuantile = stable.quantile(measure, q);
      // Just below the quantile's bucket bound, so the stable count is of the buckets above it.
      const stableAbove = stable.countAbove(measure, stableQuantile * 0.99);
      const canaryAbove = canary.countAbove(measure, criteria.maxLatencyRatio * stableQuantile);
      const lower = newcombeLower(canaryAbove, canaryCount, stableAbove, stableCount, z);
      if (lower <= 0) continue;
      const name = q === 0.5 ? 'median' : `p${Math.round(q * 100)}`;
      breaches.push(
        `${label} ${name} ${round(canary.quantile(measure, q))} ${unit} is more than ${criteria.maxLatencyRatio}× stable's ${round(stableQuantile)} ${unit} (${percent(canaryAbove / canaryCount)} of canary calls above ${criteria.maxLatencyRatio}× stable's ${name}, against ${percent(stableAbove / stableCount)} of stable's above it)`,
      );
      break; // the median breached: p95 says nothing more
    }
  }
  return breaches;
}

/**
 * Quality signals on served answers, each as the difference of shares canary − stable (of the
 * answers it applies to: all, JSON requests, answers with tool calls), Newcombe as for errors.
 */
export function qualityBreaches(
  canary: Pick<SideMetrics, 'quality'>,
  stable: Pick<SideMetrics, 'quality'>,
  criteria: Pick<JudgeCriteria, 'minSamples' | 'maxQualityRateIncrease' | 'confidence'>,
  z: number,
): string[] {
  const breaches: string[] = [];
  for (const signal of QUALITY_SIGNALS) {
    const c = canary.quality(signal);
    const s = stable.quality(signal);
    if (c.base < criteria.minSamples || s.base < criteria.minSamples) continue;
    const lower = newcombeLower(c.count, c.base, s.count, s.base, z);
    if (lower <= criteria.maxQualityRateIncrease) continue;
    breaches.push(
      `${signal.replaceAll('_', ' ')} answers ${percent(c.count / c.base)} against stable's ${percent(s.count / s.base)}: at least ${points(lower)} higher at ${percent(criteria.confidence)} confidence, above the ${points(criteria.maxQualityRateIncrease)} allowed`,
    );
  }
  return breaches;
}

/**
 * Business feedback, name by name: the difference of means canary − stable with a normal
 * (Welch) interval at the judge's confidence, blamed when even its best end is a drop larger
 * than `maxRelativeDrop` of stable's mean.
 */
function feedbackBreaches(
  canary: SideMetrics,
  stable: SideMetrics,
  criteria: JudgeCriteria,
  z: number,
): string[] {
  const rules = criteria.feedback;
  if (!rules) return [];
  const breaches: string[] = [];
  const stableMoments = stable.feedbackMoments();
  for (const [name, moments] of canary.feedbackMoments()) {
    const other = stableMoments.get(name);
    if (!other) continue;
    const c = momentsFigures(moments[0]!, moments[1]!, moments[2]!);
    const s = momentsFigures(other[0]!, other[1]!, other[2]!);
    if (c.count < rules.minSamples || s.count < rules.minSamples) continue;
    const se = Math.sqrt((c.sd * c.sd) / c.count + (s.sd * s.sd) / s.count);
    const lowerIsBetter = rules.lowerIsBetter.includes(name);
    // The difference in the "worse" direction, at its most favourable end for the canary.
    const worse = lowerIsBetter ? c.mean - s.mean - z * se : s.mean - c.mean - z * se;
    const allowed = rules.maxRelativeDrop * Math.abs(s.mean);
    if (worse <= allowed) continue;
    breaches.push(
      `feedback "${name}" averages ${round(c.mean)} against stable's ${round(s.mean)} (${c.count} and ${s.count} values): at least ${round(worse)} ${lowerIsBetter ? 'higher' : 'lower'} at ${percent(criteria.confidence)} confidence, beyond the ${percent(rules.maxRelativeDrop)} of stable's allowed`,
    );
  }
  return breaches;
}

/** The opt-in absolute ceilings: error rate, success rate and p99, on one side alone. */
function ceilingBreaches(side: SideFigures, criteria: JudgeCriteria, z: number): string[] {
  const breaches: string[] = [];
  const level = percent(criteria.confidence);
  if (criteria.maxErrorRate !== undefined) {
    const bound = wilsonLower(side.errors, side.calls, z);
    if (bound > criteria.maxErrorRate) {
      breaches.push(
        `error rate ${percent(side.errorRate)} (at least ${percent(bound)} at ${level} confidence) is above ${percent(criteria.maxErrorRate)}`,
      );
    }
  }
  if (criteria.minSuccessRate !== undefined) {
    const bound = wilsonLower(side.calls - side.successes, side.calls, z);
    if (bound > 1 - criteria.minSuccessRate) {
      breaches.push(
        `success rate ${percent(side.successRate)} (at most ${percent(1 - bound)} at ${level} confidence) is below ${percent(criteria.minSuccessRate)}`,
      );
    }
  }
  if (criteria.maxP99Ms !== undefined) {
    const bound = wilsonLower(side.slow, side.timed, z);
    if (bound > P99_TAIL) {
      breaches.push(
        `p99 ${Math.round(side.p99Ms)} ms is above ${criteria.maxP99Ms} ms (${percent(side.slow / side.timed)} of calls slower, at least ${percent(bound)} at ${level} confidence)`,
      );
    }
  }
  return breaches;
}

/** Why a side counts as failing for the incident rule, or undefined when it does not. */
function incidentOf(side: SideFigures, criteria: JudgeCriteria, z: number): string | undefined {
  const bound = wilsonLower(side.providerFailures, side.calls, z);
  if (bound > criteria.incidentFailureRate) {
    return `failure rate ${percent(side.providerFailures / side.calls)} (at least ${percent(bound)} at ${percent(criteria.confidence)} confidence) is above ${percent(criteria.incidentFailureRate)}`;
  }
  // The absolute error and success ceilings, when set, mark a failing side too (p99 does not:
  // the stable provider may be slower by design).
  const ceilings = ceilingBreaches(side, { ...criteria, maxP99Ms: undefined }, z);
  return ceilings.length > 0 ? ceilings.join('; ') : undefined;
}

/**
 * The lower bound of Newcombe's hybrid score interval for the difference p1 − p2 of two
 * independent proportions (`k1` of `n1`, `k2` of `n2`), one-sided at `z`.
 */
export function newcombeLower(k1: number, n1: number, k2: number, n2: number, z: number): number {
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const l1 = wilsonLower(k1, n1, z);
  const u2 = wilsonUpper(k2, n2, z);
  return p1 - p2 - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
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

/** The Wilson score interval's upper bound for `successes` out of `trials` at `z`. */
export function wilsonUpper(successes: number, trials: number, z: number): number {
  if (trials === 0) return 1;
  const share = successes / trials;
  const z2 = z * z;
  const centre = share + z2 / (2 * trials);
  const margin = z * Math.sqrt((share * (1 - share)) / trials + z2 / (4 * trials * trials));
  return Math.min(1, (centre + margin) / (1 + z2 / trials));
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

export function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 2 : 1)}%`;
}

/** A difference of shares, in percentage points. */
export function points(share: number): string {
  return `${(share * 100).toFixed(2)} points`;
}

export function round(value: number): string {
  return value >= 100 ? String(Math.round(value)) : value.toPrecision(3);
}
