import { LogHistogram } from '../stats/log-histogram.js';
import {
  QUALITY_SIGNALS,
  SIGNAL_BASE,
  type AnswerQuality,
  type QualitySignal,
} from './answer-quality.js';
import {
  INCOMPATIBLE,
  isError,
  isProviderFailure,
  OUTCOME_CODES,
  SUCCESS,
  type OutcomeCode,
} from './call-outcome.js';

/** What the router knows of a call besides its outcome (all optional, for custom callers). */
export interface CallFacts {
  /** A stream: its latency is the time to its first chunk. */
  streamed?: boolean;
  /** Completion tokens, when the provider reported them: a unary call is judged per token. */
  outputTokens?: number;
  /** Attempts made, the last included (retries show here, not in the call's outcome). */
  attempts?: number;
  /** The answer's quality signals (successful calls the service could read). */
  quality?: AnswerQuality;
  /** The call's request id, so business feedback can find the side that served it. */
  requestId?: string;
}

/** Most feedback names kept per side and phase: a name beyond them is ignored. */
export const MAX_FEEDBACK_NAMES = 32;

/** One feedback name's figures on one side: how many values, their mean and standard deviation. */
export interface FeedbackFigures {
  count: number;
  mean: number;
  sd: number;
}

/** Quality signals on one side's successful answers. */
export interface QualityFigures {
  /** Successful answers read. */
  answers: number;
  /** Of them, answers to requests asking for JSON, and answers with tool calls. */
  json: number;
  tools: number;
  /** Answers showing each signal (signals never seen are left out). */
  signals: Partial<Record<QualitySignal, number>>;
}

/** The latency measures the judge compares between the sides. */
export type LatencyMeasure = 'firstChunk' | 'perOutputToken';

/** One side's figures in a form that can be stored and merged across replicas. */
export interface SideSnapshot {
  /** Calls by outcome, in the order of `OUTCOME_CODES`. */
  counts: number[];
  /** The sketch of successful calls' time to answer, as `[bucket, count]` pairs. */
  latency: [number, number][];
  /** Streams: time to first chunk. */
  firstChunk?: [number, number][];
  /** Unary calls: milliseconds per output token. */
  perOutputToken?: [number, number][];
  /** `[made, failed]` attempts of the judged calls. */
  attempts?: [number, number];
  /** Canary calls served by stable because the model has no equivalent on the canary. */
  ineligible?: number;
  costUsd: number;
  /** `[answers, json, tools, ...signal counts in QUALITY_SIGNALS order]`. */
  quality?: number[];
  /** Business feedback by name: `[count, sum, sum of squares]`. */
  feedback?: Record<string, [number, number, number]>;
}

/** A latency measure's figures. */
export interface LatencyFigures {
  /** Successful calls measured. */
  count: number;
  p50Ms: number;
  p95Ms: number;
}

/** What the judge and the status API read of one side. */
export interface SideFigures {
  /** Judged calls: successes, provider failures and (canary) incompatibilities. */
  calls: number;
  successes: number;
  /** Provider faults other than timeouts and rate limits. */
  errors: number;
  /** Calls the provider failed: errors, timeouts and rate limits. */
  providerFailures: number;
  /** Canary calls refused with a 4xx for a request the stable provider then served. */
  incompatible: number;
  /** Canary-side calls whose model has no declared equivalent on the canary: served by stable. */
  ineligible: number;
  /** Attempts made by the judged calls, retries included, and how many of them failed. */
  attempts: number;
  failedAttempts: number;
  errorRate: number;
  successRate: number;
  incompatibleRate: number;
  attemptErrorRate: number;
  /** Time to the answer (unary) or to the first chunk (streams), of successful calls. */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Successful calls slower than `thresholds.maxP99Ms` (0 when no such ceiling is set). */
  slow: number;
  /** Successful calls with a latency (all of them). */
  timed: number;
  /** Streams: time to first chunk. */
  firstChunk: LatencyFigures;
  /** Unary calls with reported usage: duration per output token, so longer answers are not slower. */
  perOutputToken: LatencyFigures;
  /** Failed calls by code (incompatibilities included); codes with no call are left out. */
  failures: Partial<Record<OutcomeCode, number>>;
  /** What the side's calls cost in the phase, cancelled ones and fallbacks included (US dollars). */
  costUsd: number;
  /** `costUsd` per 1,000 judged calls: the figure to compare the two providers on. */
  costPer1000Requests: number;
  quality: QualityFigures;
  /** Business feedback attached to the side's calls (`feedback(requestId, name, value)`). */
  feedback: Record<string, FeedbackFigures>;
}

/**
 * The calls of one side (stable or canary) in one phase: a counter per outcome, attempt counters
 * and log-bucket latency sketches (time to answer; time to first chunk for streams; duration
 * per output token for unary calls). Recording is O(1) and allocates nothing; memory is fixed
 * (about 12 KiB) however many calls are recorded.
 */
export class SideMetrics {
  readonly #counts = new Float64Array(OUTCOME_CODES.length);
  readonly #latency = new LogHistogram();
  readonly #firstChunk = new LogHistogram();
  readonly #perOutputToken = new LogHistogram();
  #attempts = 0;
  #failedAttempts = 0;
  #ineligible = 0;
  #costUsd = 0;
  /** `[answers, json, tools, ...signals]`, as in the snapshot. */
  readonly #quality = new Float64Array(3 + QUALITY_SIGNALS.length);
  readonly #feedback = new Map<string, Float64Array>();

  record(outcome: number, latencyMs: number, costUsd = 0, call?: CallFacts): void {
    this.#counts[outcome]! += 1;
    this.#costUsd += costUsd;
    const attempts = call?.attempts ?? 1;
    this.#attempts += attempts;
    this.#failedAttempts +=
      outcome === SUCCESS || outcome === INCOMPATIBLE ? attempts - 1 : attempts;
    if (outcome !== SUCCESS) return;
    if (call?.quality) this.#recordQuality(call.quality);
    this.#latency.record(latencyMs);
    if (call?.streamed) this.#firstChunk.record(latencyMs);
    else if (call?.outputTokens) this.#perOutputToken.record(latencyMs / call.outputTokens);
  }

  /** The cost of a call that is not judged (cancelled, or a fallback the other side caused). */
  addCost(costUsd: number): void {
    this.#costUsd += costUsd;
  }

  /** A canary-side call served by stable: its model has no equivalent on the canary. */
  addIneligible(): void {
    this.#ineligible += 1;
  }

  /** One business outcome for a call this side served. False when too many names are kept. */
  addFeedback(name: string, value: number): boolean {
    return this.#addFeedback(name, 1, value, value * value);
  }

  /** How many answers (of the signal's base) were read, and how many showed the signal. */
  quality(signal: QualitySignal): { base: number; count: number } {
    const index = QUALITY_SIGNALS.indexOf(signal);
    const base = SIGNAL_BASE[signal];
    const total = this.#quality[base === 'all' ? 0 : base === 'json' ? 1 : 2]!;
    return { base: total, count: this.#quality[3 + index]! };
  }

  /** Business feedback of one name: `[count, sum, sum of squares]`. */
  feedbackMoments(): ReadonlyMap<string, Float64Array> {
    return this.#feedback;
  }

  get calls(): number {
    let calls = 0;
    for (const count of this.#counts) calls += count;
    return calls;
  }

  /** How many successful calls a measure has, and the value below which a share `q` of them fall. */
  count(measure: LatencyMeasure): number {
    return this.#sketch(measure).count;
  }

  quantile(measure: LatencyMeasure, q: number): number {
    return this.#sketch(measure).quantile(q);
  }

  /** Measured calls above `threshold` (whole sketch buckets above it). */
  countAbove(measure: LatencyMeasure, threshold: number): number {
    return this.#sketch(measure).countAbove(threshold);
  }

  figures(p99ThresholdMs?: number): SideFigures {
    const calls = this.calls;
    const successes = this.#counts[SUCCESS]!;
    const incompatible = this.#counts[INCOMPATIBLE]!;
    let errors = 0;
    let providerFailures = 0;
    const failures: Partial<Record<OutcomeCode, number>> = {};
    for (let outcome = 1; outcome < OUTCOME_CODES.length; outcome++) {
      const count = this.#counts[outcome]!;
      if (count === 0) continue;
      failures[OUTCOME_CODES[outcome]!] = count;
      if (isError(outcome)) errors += count;
      if (isProviderFailure(outcome)) providerFailures += count;
    }
    const share = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
    return {
      calls,
      successes,
      errors,
      providerFailures,
      incompatible,
      ineligible: this.#ineligible,
      attempts: this.#attempts,
      failedAttempts: this.#failedAttempts,
      errorRate: share(errors, calls),
      successRate: calls === 0 ? 1 : successes / calls,
      incompatibleRate: share(incompatible, calls),
      attemptErrorRate: share(this.#failedAttempts, this.#attempts),
      p50Ms: this.#latency.quantile(0.5),
      p95Ms: this.#latency.quantile(0.95),
      p99Ms: this.#latency.quantile(0.99),
      slow: p99ThresholdMs === undefined ? 0 : this.#latency.countAbove(p99ThresholdMs),
      timed: this.#latency.count,
      firstChunk: latencyFigures(this.#firstChunk),
      perOutputToken: latencyFigures(this.#perOutputToken),
      failures,
      costUsd: this.#costUsd,
      costPer1000Requests: share(this.#costUsd, calls) * 1000,
      quality: this.#qualityFigures(),
      feedback: Object.fromEntries(
        [...this.#feedback].map(([name, [count = 0, sum = 0, squares = 0]]) => [
          name,
          momentsFigures(count, sum, squares),
        ]),
      ),
    };
  }

  snapshot(): SideSnapshot {
    return {
      counts: Array.from(this.#counts),
      latency: this.#latency.toSparse(),
      firstChunk: this.#firstChunk.toSparse(),
      perOutputToken: this.#perOutputToken.toSparse(),
      attempts: [this.#attempts, this.#failedAttempts],
      ineligible: this.#ineligible,
      costUsd: this.#costUsd,
      quality: Array.from(this.#quality),
      feedback: Object.fromEntries(
        [...this.#feedback].map(([name, moments]) => [
          name,
          Array.from(moments) as [number, number, number],
        ]),
      ),
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
    // Fields a replica of an earlier version does not publish are simply absent.
    if (snapshot.firstChunk) this.#firstChunk.mergeSparse(snapshot.firstChunk);
    if (snapshot.perOutputToken) this.#perOutputToken.mergeSparse(snapshot.perOutputToken);
    const [attempts = 0, failedAttempts = 0] = snapshot.attempts ?? [];
    if (attempts > 0) this.#attempts += attempts;
    if (failedAttempts > 0) this.#failedAttempts += failedAttempts;
    if ((snapshot.ineligible ?? 0) > 0) this.#ineligible += snapshot.ineligible!;
    if (snapshot.costUsd > 0) this.#costUsd += snapshot.costUsd;
    const quality = snapshot.quality ?? [];
    for (let i = 0; i < Math.min(quality.length, this.#quality.length); i++) {
      if (quality[i]! > 0) this.#quality[i]! += quality[i]!;
    }
    for (const [name, [count, sum, squares]] of Object.entries(snapshot.feedback ?? {})) {
      this.#addFeedback(name, count, sum, squares);
    }
  }

  #recordQuality(quality: AnswerQuality): void {
    const counts = this.#quality;
    counts[0]! += 1;
    if (quality.json) counts[1]! += 1;
    if (quality.tools) counts[2]! += 1;
    for (let flags = quality.flags, i = 0; flags !== 0; flags >>>= 1, i++) {
      if (flags & 1) counts[3 + i]! += 1;
    }
  }

  #qualityFigures(): QualityFigures {
    const counts = this.#quality;
    const signals: Partial<Record<QualitySignal, number>> = {};
    QUALITY_SIGNALS.forEach((signal, i) => {
      if (counts[3 + i]! > 0) signals[signal] = counts[3 + i]!;
    });
    return { answers: counts[0]!, json: counts[1]!, tools: counts[2]!, signals };
  }

  #addFeedback(name: string, count: number, sum: number, squares: number): boolean {
    let moments = this.#feedback.get(name);
    if (!moments) {
      if (this.#feedback.size >= MAX_FEEDBACK_NAMES) return false;
      this.#feedback.set(name, (moments = new Float64Array(3)));
    }
    moments[0]! += count;
    moments[1]! += sum;
    moments[2]! += squares;
    return true;
  }

  #sketch(measure: LatencyMeasure): LogHistogram {
    return measure === 'firstChunk' ? this.#firstChunk : this.#perOutputToken;
  }
}

/** Count, mean and sample standard deviation from a count, a sum and a sum of squares. */
export function momentsFigures(count: number, sum: number, squares: number): FeedbackFigures {
  if (count === 0) return { count: 0, mean: 0, sd: 0 };
  const mean = sum / count;
  const variance = count > 1 ? Math.max(0, (squares - count * mean * mean) / (count - 1)) : 0;
  return { count, mean, sd: Math.sqrt(variance) };
}

function latencyFigures(sketch: LogHistogram): LatencyFigures {
  return { count: sketch.count, p50Ms: sketch.quantile(0.5), p95Ms: sketch.quantile(0.95) };
}
