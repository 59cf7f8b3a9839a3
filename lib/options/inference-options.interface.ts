import type { Clock } from '../client/clock.js';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import type { RolloutStore } from '../canary/rollout.store.js';
import type { Answer } from '../canary/answer-quality.js';
import type { ChatCompletionRequest } from '../client/chat.types.js';
import type { InferenceErrorOptions } from '../errors/to-http-exception.js';
import type { ModelPrice } from '../pricing/call-cost.js';
import type { CallTimeoutOptions, TimeoutOptions } from '../client/provider-options.js';

/** Owned by the concerns that use them; named here too, with the options that compose them. */
export type { CallTimeoutOptions, ModelPrice, TimeoutOptions };

export interface RetryOptions {
  /** Retries after the first attempt. Default 2; 0 turns retries off. */
  maxRetries: number;
  /** The first backoff ceiling; each retry doubles it (full jitter). Default 250 ms. */
  baseDelayMs: number;
  /** The largest backoff, and the largest `Retry-After` the client will honour. Default 8,000 ms. */
  maxDelayMs: number;
  /**
   * Retry an attempt that timed out after its request was sent (headers, first chunk or idle
   * budget). Off by default: the provider may still be generating, and billing, the first one.
   * Connect timeouts are always retried.
   */
  afterTimeout: boolean;
}

export interface PoolOptions {
  /** Most sockets open to the provider's origin at once. Default 128. */
  connections: number;
  /** How long an idle keep-alive socket is kept. Keep it below the provider's own. Default 4,000 ms. */
  keepAliveTimeoutMs: number;
}

export interface ProviderOptions {
  /** The API root, for example `https://api.example.com/v1`; `/chat/completions` is appended. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; never logged, never in an error. */
  apiKey: string;
  /** The model used when neither the call nor the route names one. */
  defaultModel?: string;
  /**
   * Extra headers sent with every request to this provider. Values of credential headers
   * (`api-key`, `x-api-key`, `proxy-authorization`, any named in `secretHeaders`) are treated like
   * `apiKey`: redacted from every message and log.
   */
  headers?: Record<string, string>;
  /** More header names in `headers` whose values are secrets. */
  secretHeaders?: string[];
  /**
   * Ask for usage on streams by sending `stream_options: { include_usage: true }`, so cost is
   * known (the extra chunk is dropped when the caller did not ask). Default true; set false for
   * providers that refuse `stream_options`: usage is then taken from the stream when present,
   * else estimated (and marked so).
   */
  streamUsage?: boolean;
  /** The largest unary response body read, in bytes; a larger one fails the call. Default 10 MiB. */
  maxResponseBytes?: number;
  timeouts?: Partial<TimeoutOptions>;
  retry?: Partial<RetryOptions>;
  pool?: Partial<PoolOptions>;
  /** Dollars per million tokens, by this provider's own model name; calls get their cost from it. */
  prices?: Record<string, ModelPrice>;
}

export interface InferenceModuleOptions {
  /** Named upstream providers, for example `{ legacy: {...}, next: {...} }`. */
  providers: Record<string, ProviderOptions>;
  /**
   * Logical models mapped to each provider's own name, for example
   * `{ chat: { legacy: 'gpt-4.1', next: 'deepseek-v3.2' } }`: a route or call naming `chat`
   * gets the right model on whichever side the canary sends it to.
   */
  models?: Record<string, Record<string, string>>;
  /**
   * Concrete model names that are the same model on different providers, for example
   * `[{ legacy: 'gpt-4.1', next: 'deepseek-v3.2' }]`: a call naming `gpt-4.1` (as SDK clients
   * do) is sent to `next` as `deepseek-v3.2`, whichever way it got there (canary routing,
   * fallback, pinning). A canary call whose model has no equivalent is served by stable.
   */
  equivalentModels?: Record<string, string>[];
  /** The provider used when a call names none. Optional when there is exactly one provider. */
  defaultProvider?: string;
  /** How the app shuts down: readiness delay, drain bound, second signal (see `ShutdownOptions`). */
  shutdown?: Partial<ShutdownOptions>;
  /** A canary rollout from one provider to another (see `CanaryOptions`). Off when absent. */
  canary?: CanaryOptions;
  /**
   * Where metrics and spans go. By default the global providers of `@opentelemetry/api` (no-ops
   * until the app registers an SDK, which it must do before the module starts). `false` turns
   * telemetry off.
   */
  telemetry?: false | { meterProvider?: MeterProvider; tracerProvider?: TracerProvider };
  /**
   * How failures are shown to the app's HTTP clients by `InferenceExceptionFilter`:
   * `{ exposeProviderNames: true }` names the provider in messages (default false).
   */
  errors?: InferenceErrorOptions;
  /** Time source, for tests. Defaults to the system clock. */
  clock?: Clock;
  /** Random source in [0, 1), for retry jitter; for tests. Defaults to `Math.random`. */
  random?: () => number;
}

/** The shutdown sequence run on the first SIGTERM/SIGINT (through `app.enableShutdownHooks()`) or `app.close()`. */
export interface ShutdownOptions {
  /**
   * How long the app keeps serving normally after the signal while readiness already fails, so
   * load balancers stop sending traffic first. Default 5000; 0 when `NODE_ENV` is `test`.
   */
  readinessDelayMs: number;
  /** The bound on waiting for in-flight requests once the listener is closed. Default 30000. */
  drainTimeoutMs: number;
  /**
   * After the drain deadline, how long stopped streams get to write their terminal event before
   * the remaining sockets are destroyed. Default 1000.
   */
  abandonGraceMs: number;
  /** What a second SIGTERM/SIGINT during the drain does: `force` (default) ends it at once; `ignore`. */
  secondSignal: 'force' | 'ignore';
  /** The process's exit code when the drain had to abandon requests. Default 75 (EX_TEMPFAIL). */
  abandonedExitCode: number;
  /** `Retry-After` of the 503s answered while draining, in milliseconds (sent in seconds). Default 1000. */
  retryAfterMs: number;
  /**
   * The HTTP server's idle keep-alive timeout, set on the server at startup and advertised to
   * clients as `Keep-Alive: timeout=<seconds>`. Clients close an idle socket before it (undici 2 s
   * before, Node's agent 1 s before); the server closes it 1 s after. From the signal on, the drain
   * never closes an idle socket earlier than that, so keep it + 1000 within `readinessDelayMs`
   * (then every socket idle at the signal is gone when the listener closes) and well within
   * `readinessDelayMs + drainTimeoutMs` (startup warns otherwise). Default 4000.
   */
  keepAliveTimeoutMs: number;
  /**
   * What the drain does with idle keep-alive connections once nothing is in flight: `expire`
   * (default) waits until their keep-alive timeout closes them, since a client may be writing a
   * request on one at any moment; `close` closes them at once (for tests, where no client sends
   * concurrently: the default when `NODE_ENV` is `test`).
   */
  idleConnections: 'expire' | 'close';
  /**
   * The orchestrator's termination grace period (Kubernetes' `terminationGracePeriodSeconds`,
   * in ms). When set, startup warns if the readiness delay plus the drain could outlast it.
   */
  terminationGracePeriodMs?: number;
}

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
