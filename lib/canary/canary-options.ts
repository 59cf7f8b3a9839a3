import type { IncomingHttpHeaders } from 'node:http';
import type { ChatCompletionRequest } from '../client/chat.types.js';
import type { Clock } from '../client/clock.js';
import type { ResolvedProviderOptions } from '../client/provider-options.js';
import type { Answer } from './answer-quality.js';
import type { RolloutStore } from './rollout.store.js';

/** One step of a rollout: the canary's share of traffic, and how long it runs before the next. */
export interface CanaryPhase {
  /**
   * Percent of sticky keys sent to the canary, in 0.01 steps (1 = 1%). 0 only in a shadow
   * phase (`shadow` set): no user is served by the canary.
   */
  weight: number;
  /** How long the phase runs before the judge may advance it. Omit on a final 100% phase. */
  durationMs?: number;
  /**
   * Percent of the stable side's sticky keys whose calls are mirrored to the canary after their
   * answer was served (see `canary.shadow`). Default 0.
   */
  shadow?: number;
}

/** A mirrored call and the answer served for it, for a comparator of your own. */
export interface ShadowPair {
  request: ChatCompletionRequest;
  /** The text, finish reason and tool calls of the answer served (stable) and of the canary's. */
  served: Answer;
  canary: Answer;
}

/**
 * How the canary is mirrored in shadow phases: bounded in concurrency and spend, off the
 * request path, cancelled when the app starts to drain, its cost counted apart.
 */
export interface CanaryShadowOptions {
  /** Mirrored calls running at once on this replica; a call beyond it is not mirrored. Default 4. */
  maxConcurrent?: number;
  /** Spend on mirrored calls per clock hour on this replica, from the canary's prices. Default 1 ($). */
  maxUsdPerHour?: number;
  /** Do not mirror requests that offer tools (a tool call may act). Default true. */
  excludeTools?: boolean;
  /**
   * Share of mirrored calls also asked of stable again, to learn how similar stable is to
   * itself: the similarity the canary is held to. Default 0.2.
   */
  baselineShare?: number;
  /** A mirrored call's total budget. Default 30,000 ms. */
  timeoutMs?: number;
  /** Your own comparison of a pair: a score in [0, 1] (or a boolean); averaged per phase. */
  compare?: (pair: ShadowPair, signal: AbortSignal) => Promise<number | boolean>;
  /** How long `compare` may take (then it counts as failed). Default 2,000 ms. */
  compareTimeoutMs?: number;
  /** `compare` calls running at once; a pair beyond it is not compared. Default 2. */
  compareConcurrency?: number;
  /**
   * The gate a shadow phase (weight 0) must pass before any user is served, or `false` to only
   * report. Default: on, with the margins below.
   */
  gate?: CanaryShadowGate | false;
}

export interface CanaryShadowGate {
  /** Fewest compared pairs before the gate decides. Default: `canary.minSamples`. */
  minPairs?: number;
  /** How much lower the canary's mean similarity may be than stable's with itself. Default 0.1. */
  maxSimilarityDrop?: number;
  /** Stable-with-itself pairs needed before similarity is judged. Default 20. */
  minBaselinePairs?: number;
}

/** How business feedback (`feedback(requestId, name, value)`) is judged. */
export interface CanaryFeedbackOptions {
  /** Fewest values of a name on each side before it is judged. Default: `canary.minSamples`. */
  minSamples?: number;
  /** How much lower than stable's (a share of its mean) the canary's mean may be. Default 0.05. */
  maxRelativeDrop?: number;
  /** Names where lower is better (returns, complaints). Default none: higher is better. */
  lowerIsBetter?: string[];
  /** Recent request ids remembered so feedback finds the side that served them. Default 100,000. */
  maxTracked?: number;
}

/**
 * What a healthy canary looks like, judged against the stable side in the same phase: each
 * `max…Increase` / `max…Drop` is a margin on the difference canary − stable, breached only when
 * the lower bound of its confidence interval is above it. The absolute ceilings are opt-in.
 */
export interface CanaryThresholds {
  /** How much higher the canary's error rate (provider faults) may be. Default 0.003 (0.3 points). */
  maxErrorRateIncrease: number;
  /** How much lower its success rate may be (errors, timeouts and 429s). Default 0.005. */
  maxSuccessRateDrop: number;
  /** How much higher its share of failed attempts may be, retries included. Default 0.05. */
  maxAttemptErrorRateIncrease: number;
  /**
   * How many times slower than stable it may be, at the median and p95 of time to first chunk
   * (streams) and of duration per output token (unary calls). Default 1.5.
   */
  maxLatencyRatio: number;
  /** Highest share of canary calls refused with a 4xx that stable then served. Default 0.01. */
  maxIncompatibleRate: number;
  /**
   * A stable side failing more than this share of calls is an incident in what both share: a
   * canary failing too is not blamed, the rollout pauses. Default 0.05.
   */
  incidentFailureRate: number;
  /** One-sided confidence needed to call a threshold breached. Default 0.99. */
  confidence: number;
  /**
   * How much higher the canary's share of each quality signal may be than stable's: empty
   * answers, `finish_reason` length or content_filter, invalid JSON for JSON requests, tool
   * arguments that do not parse. Default 0.015 (1.5 points: at 1 point, the Monte Carlo
   * falsely rolls back 0.9% of rollouts on quality alone).
   */
  maxQualityRateIncrease: number;
  /** Opt-in absolute ceiling on the canary's error rate (provider faults). Off by default. */
  maxErrorRate?: number;
  /** Opt-in absolute floor on the canary's success rate. Off by default. */
  minSuccessRate?: number;
  /** Opt-in absolute ceiling on the canary's p99 time to answer or first chunk, in ms. Off by default. */
  maxP99Ms?: number;
}

export interface CanaryFastFailOptions {
  /** Default 10,000 ms. */
  windowMs: number;
  /** Default 20 calls. */
  minCalls: number;
  /** Default 0.5: a canary failing half its recent calls is rolled back at once. */
  failureRate: number;
}

export interface CanaryWebhookOptions {
  /** Receives each rollout event as a JSON POST. */
  url: string;
  /** Per attempt. Default 2,000 ms. */
  timeoutMs?: number;
  /** Attempts after the first. Default 3. */
  retries?: number;
  /** Extra headers, for example an authorization token; never logged. */
  headers?: Record<string, string>;
}

/**
 * A rollout from the `stable` provider to the `canary` one: sticky per key, in phases, judged
 * every interval, rolled back on its own. Calls that name a provider bypass it.
 */
export interface CanaryOptions {
  /** The provider serving today. */
  stable: string;
  /** The provider being rolled out. */
  canary: string;
  /** Default 1%/15 min, 5%/30 min, 25%/1 h, 50%/2 h, then 100%. */
  phases?: CanaryPhase[];
  /** How often the judge runs. Default 60,000 ms. */
  intervalMs?: number;
  /** Fewest canary calls in a phase before it is judged. Default 100. */
  minSamples?: number;
  thresholds?: Partial<CanaryThresholds>;
  /**
   * Failing evaluations in a row that roll the canary back. Default 1: each evaluation judges the
   * whole phase so far at 99% confidence, so a second look mostly repeats the first one.
   */
  consecutiveFailures?: number;
  /** Immediate rollback of a canary failing most of its recent calls; `false` turns it off. */
  fastFail?: Partial<CanaryFastFailOptions> | false;
  /** Health probes (`GET /models`) of the canary before traffic moves. */
  warmup?: { probes?: number; maxFailures?: number };
  /**
   * Where the sticky key comes from: header names tried in order (default `['x-user-id']`), or a
   * function of the request headers. A request without one gets a random key.
   */
  stickyKey?: string[] | ((headers: IncomingHttpHeaders) => string | undefined);
  /**
   * A request header forcing a side, for testing: `always` or `never`. Off by default; `true`
   * uses `x-inference-canary`, or name one. Honoured only while the rollout is under way with
   * fresh state (never after a rollback or fast-fail); forced calls are never counted.
   */
  overrideHeader?: string | boolean;
  /** The salt of the sticky hash. Default: a new one per rollout, so each gets a fresh cohort. */
  salt?: string;
  /** Start a rollout at boot when the store holds none in progress. Default false. */
  autoStart?: boolean;
  /** Where the rollout's state and metrics live. Default in memory (one replica). */
  store?: RolloutStore;
  /** How often a replica syncs state and metrics with the store. Default min(intervalMs, 5,000). */
  syncIntervalMs?: number;
  /** A replica whose last good read of the state is older than this sends every call to stable. Default 3 × syncIntervalMs. */
  staleAfterMs?: number;
  webhook?: CanaryWebhookOptions;
  /** Mirroring in shadow phases (phases with `shadow` set). */
  shadow?: CanaryShadowOptions;
  /** Business feedback in the judge. */
  feedback?: CanaryFeedbackOptions;
}

/** A rollout phase with its weight in basis points (10,000 = 100%). */
export interface ResolvedPhase {
  weightBps: number;
  /** The stable side's share mirrored to the canary, in basis points (0: none). */
  shadowBps?: number;
  /** Undefined on the final 100% phase. */
  durationMs?: number;
}

export interface ResolvedCanaryOptions {
  stable: string;
  canary: string;
  /** Ends with the 100% phase. */
  phases: readonly ResolvedPhase[];
  intervalMs: number;
  minSamples: number;
  thresholds: Readonly<CanaryThresholds>;
  consecutiveFailures: number;
  fastFail: Readonly<CanaryFastFailOptions> | undefined;
  warmup: { probes: number; maxFailures: number };
  stickyKey: (headers: IncomingHttpHeaders) => string | undefined;
  overrideHeader: string | undefined;
  salt: string | undefined;
  autoStart: boolean;
  store: RolloutStore | undefined;
  syncIntervalMs: number;
  staleAfterMs: number;
  webhook:
    { url: URL; timeoutMs: number; retries: number; headers: Record<string, string> } | undefined;
  shadow: ResolvedShadowOptions;
  feedback: {
    minSamples: number;
    maxRelativeDrop: number;
    lowerIsBetter: readonly string[];
    maxTracked: number;
  };
}

export interface ResolvedShadowOptions {
  maxConcurrent: number;
  maxUsdPerHour: number;
  excludeTools: boolean;
  baselineShare: number;
  timeoutMs: number;
  compare: CanaryShadowOptions['compare'];
  compareTimeoutMs: number;
  compareConcurrency: number;
  gate: { minPairs: number; maxSimilarityDrop: number; minBaselinePairs: number } | undefined;
}

/** What the rollout, the router and the shadow mirror read of the module's resolved options. */
export interface CanaryModuleOptions {
  providers: ReadonlyMap<string, ResolvedProviderOptions>;
  defaultProvider: string;
  canary?: ResolvedCanaryOptions;
  clock: Clock;
  random: () => number;
}
