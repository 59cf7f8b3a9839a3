import type { IncomingHttpHeaders } from 'node:http';
import type { ChatCompletionRequest } from '../client/chat.types.js';
import type { Clock } from '../client/clock.js';
import type { ResolvedProviderOptions } from '../client/provider-options.js';
import type { Answer } from './answer-quality.js';
import type { RolloutStore } from './rollout.store.js';
import {
  defaultsOf,
  duration,
  func,
  group,
  HEADER_NAME,
  headers,
  httpUrl,
  integer,
  INVALID,
  oneOf,
  optional,
  OptionWords as W,
  orFalse,
  range,
  share,
  shown,
  strings,
  text,
  withMethods,
  type Rule,
  type RuleValue,
  type TableOf,
} from '../rules/index.js';

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

const MINUTE = 60_000;
const COUNT = 1_000_000;

/** A percentage (0..100, 0.01 steps) in basis points. */
const percentBps: Rule<number> = (value, at) => {
  const bps = typeof value === 'number' ? Math.round(value * 100) : NaN;
  return bps >= 0 && bps <= 10_000 && Math.abs(bps - (value as number) * 100) <= 1e-6
    ? bps
    : at.fail(W.notInRange(value, 0, 100));
};

const PHASE = {
  weight: {
    rule: percentBps,
    hint: (value: unknown) =>
      `must be a percentage above 0 (0 only with shadow) and at most 100, in 0.01 steps, got ${shown(value)}.`,
  },
  durationMs: { rule: optional(duration()) },
  shadow: {
    rule: percentBps,
    default: 0,
    hint: (value: unknown) =>
      `must be a percentage from 0 to 100, in 0.01 steps (10 mirrors 10% of the stable side's keys), got ${shown(value)}.`,
  },
} satisfies TableOf<CanaryPhase>;

/** A rollout phase with its weight in basis points (10,000 = 100%). */
const phase = group(PHASE, ({ weight: weightBps, durationMs, shadow: shadowBps }, at) => {
  if (weightBps === 0 && shadowBps === 0) {
    return at
      .child('weight')
      .fail(
        'is 0 but the phase has no shadow share: a phase with weight 0 must set shadow (a percentage above 0), or give the canary a weight above 0.',
      );
  }
  if (durationMs === undefined && weightBps === 0) {
    return at
      .child('durationMs')
      .fail(
        'must be set on a shadow phase (weight 0): it says how long the canary is compared before users are served, for example durationMs: 900000.',
      );
  }
  if (durationMs === undefined && weightBps < 10_000) {
    return at
      .child('durationMs')
      .fail('is missing. Every phase below 100% needs a duration, for example durationMs: 900000.');
  }
  return {
    weightBps,
    /** The stable side's share mirrored to the canary, in basis points (0: none). */
    ...(shadowBps > 0 ? { shadowBps } : {}),
    /** Undefined on the final 100% phase. */
    ...(durationMs === undefined ? {} : { durationMs }),
  };
});

export type ResolvedPhase = RuleValue<typeof phase>;

const NO_PHASES =
  'is empty. Give at least one phase, for example [{ weight: 5, durationMs: 600000 }].';

/** Weights only grow, and the list ends with the 100% phase, spelt out or not. */
const phases: Rule<ResolvedPhase[]> = (value, at) => {
  if (!Array.isArray(value) || value.length === 0) return at.fail(NO_PHASES);
  const resolved = value.map((given, index) => phase(given, at.child(index)));
  if (resolved.includes(INVALID)) return INVALID;
  const list = resolved as ResolvedPhase[];
  for (const [index, { weightBps }] of list.entries()) {
    if (index > 0 && weightBps <= list[index - 1]!.weightBps) {
      return at
        .child(index)
        .child('weight')
        .fail('must be larger than the weight of the phase before it: weights only grow.');
    }
  }
  const last = list.at(-1)!;
  if (last.weightBps !== 10_000 || last.durationMs !== undefined) list.push({ weightBps: 10_000 });
  return list;
};

const THRESHOLDS = {
  maxErrorRateIncrease: { rule: share, default: 0.003 },
  maxSuccessRateDrop: { rule: share, default: 0.005 },
  maxAttemptErrorRateIncrease: { rule: share, default: 0.05 },
  maxLatencyRatio: {
    rule: range(1, 100),
    default: 1.5,
    hint: (value: unknown) =>
      `must be a number from 1 to 100 (1.5 allows the canary to be 1.5 times slower than stable), got ${shown(value)}.`,
  },
  maxIncompatibleRate: { rule: share, default: 0.01 },
  incidentFailureRate: { rule: share, default: 0.05 },
  confidence: {
    rule: range(0.5, 0.9999),
    default: 0.99,
    hint: (value: unknown) =>
      `must be a number between 0.5 and 0.9999 (0.95 is 95%), got ${shown(value)}.`,
  },
  maxQualityRateIncrease: { rule: share, default: 0.015 },
  maxErrorRate: { rule: optional(share) },
  minSuccessRate: { rule: optional(share) },
  maxP99Ms: { rule: optional(duration()) },
} satisfies TableOf<CanaryThresholds>;

/** Margins on canary − stable; the absolute ceilings (`maxErrorRate`, …) are off by default. */
export const DEFAULT_THRESHOLDS = defaultsOf(THRESHOLDS);

const FAST_FAIL = {
  windowMs: { rule: duration(), default: 10_000 },
  minCalls: { rule: integer(1, COUNT), default: 20 },
  failureRate: { rule: share, default: 0.5 },
} satisfies TableOf<CanaryFastFailOptions>;

const WARMUP = {
  probes: { rule: integer(0, 100), default: 3 },
  maxFailures: { rule: integer(1, 100), default: 3 },
} satisfies TableOf<NonNullable<CanaryOptions['warmup']>>;

const WEBHOOK = {
  url: { rule: httpUrl("Use an http(s) URL such as 'https://hooks.example.com/rollout'.") },
  timeoutMs: { rule: duration(), default: 2_000 },
  retries: { rule: integer(0, COUNT), default: 3 },
  headers: { rule: headers() },
} satisfies TableOf<CanaryWebhookOptions>;

const GATE = {
  // Default: `canary.minSamples` (filled in by the canary's table).
  minPairs: { rule: optional(integer(1, COUNT)) },
  maxSimilarityDrop: { rule: share, default: 0.1 },
  minBaselinePairs: { rule: integer(1, COUNT), default: 20 },
} satisfies TableOf<CanaryShadowGate>;

const SHADOW = {
  maxConcurrent: { rule: integer(1, COUNT), default: 4 },
  maxUsdPerHour: {
    rule: range(0, Infinity),
    default: 1,
    hint: (value: unknown) =>
      `must be an amount in US dollars ≥ 0 (0 stops mirroring), got ${shown(value)}.`,
  },
  excludeTools: { rule: oneOf([true, false]), default: true },
  baselineShare: { rule: share, default: 0.2 },
  timeoutMs: { rule: duration(), default: 30_000 },
  compare: { rule: optional(func<NonNullable<CanaryShadowOptions['compare']>>()) },
  compareTimeoutMs: { rule: duration(), default: 2_000 },
  compareConcurrency: { rule: integer(1, COUNT), default: 2 },
  gate: { rule: orFalse(group(GATE)) },
} satisfies TableOf<CanaryShadowOptions>;

const FEEDBACK = {
  // Default: `canary.minSamples` (filled in by the canary's table).
  minSamples: { rule: optional(integer(1, 10 * COUNT)) },
  maxRelativeDrop: { rule: share, default: 0.05 },
  lowerIsBetter: {
    rule: strings(),
    default: [],
    nullIsDefault: true,
    hint: () => 'must be an array of feedback names (strings).',
  },
  maxTracked: { rule: integer(1, 10 * COUNT), default: 100_000 },
} satisfies TableOf<CanaryFeedbackOptions>;

type StickyKey = (headers: IncomingHttpHeaders) => string | undefined;

/** Header names tried in order, or a function of the headers. */
const stickyKey: Rule<StickyKey> = (value, at) => {
  if (typeof value === 'function') return value as StickyKey;
  const names = strings((name) => HEADER_NAME.test(name), 1)(value, at);
  if (names === INVALID) return INVALID;
  const lower = names.map((name) => name.toLowerCase());
  return (headers) => {
    for (const name of lower) {
      const found = headers[name];
      const text = Array.isArray(found) ? found[0] : found;
      if (text) return text;
    }
    return undefined;
  };
};

/** Off unless asked for: a header anyone can send must not steer production traffic by default. */
const overrideHeader: Rule<string | undefined> = (value, at) => {
  if (value === false || value === undefined) return undefined;
  if (value === true) return 'x-inference-canary';
  return typeof value === 'string' && HEADER_NAME.test(value)
    ? value.toLowerCase()
    : at.fail(
        "must be a header name such as 'x-inference-canary', true (that header) or false (off).",
      );
};

/** The canary's table, against the configured providers. */
function canaryTable(providers: readonly string[]) {
  const side: Rule<string> = (value, at) => {
    const name = text(`Name a configured provider: ${providers.join(', ')}.`)(value, at);
    if (name === INVALID || providers.includes(name)) return name;
    return at.fail(
      `is ${shown(name)}, which is not a configured provider. Use one of: ${providers.join(', ')}.`,
    );
  };
  return {
    stable: { rule: side },
    canary: { rule: side },
    /** 1% for 15 min, 5% for 30 min, 25% for 1 h, 50% for 2 h, then 100%. */
    phases: {
      rule: phases,
      default: [
        { weight: 1, durationMs: 15 * MINUTE },
        { weight: 5, durationMs: 30 * MINUTE },
        { weight: 25, durationMs: 60 * MINUTE },
        { weight: 50, durationMs: 120 * MINUTE },
        { weight: 100 },
      ],
    },
    intervalMs: { rule: duration(), default: MINUTE },
    minSamples: { rule: integer(1, COUNT), default: 100 },
    thresholds: { rule: group(THRESHOLDS) },
    consecutiveFailures: { rule: integer(1, COUNT), default: 1 },
    fastFail: { rule: orFalse(group(FAST_FAIL)) },
    warmup: { rule: group(WARMUP) },
    stickyKey: {
      rule: stickyKey,
      default: ['x-user-id'],
      nullIsDefault: true,
      hint: () =>
        "must be a list of header names, such as ['x-user-id'], or a function of the headers.",
    },
    overrideHeader: { rule: overrideHeader },
    salt: { rule: optional(text('Use any string, or leave it out.')) },
    autoStart: { rule: oneOf([true, false]), default: false },
    store: {
      rule: optional(
        withMethods<RolloutStore>(
          ['read', 'write', 'acquireLease', 'publishMetrics', 'readMetrics'],
          'must be a rollout store (read, write, acquireLease, publishMetrics, readMetrics), such as new RedisRolloutStore(redis).',
        ),
      ),
    },
    // Defaults: min(intervalMs, 5,000) and 3 × syncIntervalMs (filled in below).
    syncIntervalMs: { rule: optional(duration()) },
    staleAfterMs: { rule: optional(duration()) },
    webhook: { rule: optional(group(WEBHOOK)) },
    shadow: { rule: group(SHADOW), nullIsDefault: true },
    feedback: { rule: group(FEEDBACK), nullIsDefault: true },
  } satisfies TableOf<CanaryOptions>;
}

/** `canary`, against the configured providers; undefined when there is no rollout. */
export const canaryRule = (providers: readonly string[]) =>
  optional(
    group(canaryTable(providers), (canary, at) => {
      if (canary.stable === canary.canary) {
        return at
          .child('canary')
          .fail('names the stable provider. The canary must be another provider.');
      }
      const { minSamples, shadow, feedback } = canary;
      const syncIntervalMs = canary.syncIntervalMs ?? Math.min(canary.intervalMs, 5_000);
      return {
        ...canary,
        syncIntervalMs,
        staleAfterMs: canary.staleAfterMs ?? 3 * syncIntervalMs,
        shadow: {
          ...shadow,
          gate: shadow.gate && { ...shadow.gate, minPairs: shadow.gate.minPairs ?? minSamples },
        },
        feedback: { ...feedback, minSamples: feedback.minSamples ?? minSamples },
      };
    }),
  );

export type ResolvedCanaryOptions = NonNullable<RuleValue<ReturnType<typeof canaryRule>>>;
export type ResolvedShadowOptions = ResolvedCanaryOptions['shadow'];

/** What the rollout, the router and the shadow mirror read of the module's resolved options. */
export interface CanaryModuleOptions {
  providers: ReadonlyMap<string, ResolvedProviderOptions>;
  defaultProvider: string;
  canary?: ResolvedCanaryOptions;
  clock: Clock;
  random: () => number;
}
