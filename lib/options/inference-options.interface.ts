import type { Clock } from '../client/clock.js';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import type { RolloutStore } from '../canary/rollout.store.js';
import type { CALL_TIMEOUT_FIELDS } from './option.defaults.js';

export interface TimeoutOptions {
  /** Opening a TCP/TLS connection. Default 5,000 ms. */
  connectMs: number;
  /** From sending the request to the response headers (the first byte). Default 60,000 ms. */
  headersMs: number;
  /** Longest silence between two body reads or stream chunks. Default 30,000 ms. */
  idleMs: number;
  /** The whole call, retries and backoff included. Default 120,000 ms. */
  totalMs: number;
}

/** What a call may override of its provider's timeouts (see `CALL_TIMEOUT_FIELDS`). */
export type CallTimeoutOptions = Partial<
  Pick<TimeoutOptions, (typeof CALL_TIMEOUT_FIELDS)[number]>
>;

export interface RetryOptions {
  /** Retries after the first attempt. Default 2; 0 turns retries off. */
  maxRetries: number;
  /** The first backoff ceiling; each retry doubles it (full jitter). Default 250 ms. */
  baseDelayMs: number;
  /** The largest backoff, and the largest `Retry-After` the client will honour. Default 8,000 ms. */
  maxDelayMs: number;
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
  /** Extra headers sent with every request to this provider. */
  headers?: Record<string, string>;
  timeouts?: Partial<TimeoutOptions>;
  retry?: Partial<RetryOptions>;
  pool?: Partial<PoolOptions>;
  /** Dollars per million tokens, by this provider's own model name; calls get their cost from it. */
  prices?: Record<string, ModelPrice>;
}

/** A model's price in US dollars per million tokens. */
export interface ModelPrice {
  input: number;
  /** Prompt tokens served from the provider's cache. Default: the input price. */
  cachedInput?: number;
  output: number;
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
  /** Percent of sticky keys sent to the canary, in 0.01 steps (1 = 1%). */
  weight: number;
  /** How long the phase runs before the judge may advance it. Omit on a final 100% phase. */
  durationMs?: number;
}

export interface CanaryThresholds {
  /** Highest acceptable share of calls failing with a provider fault. Default 0.02 (2%). */
  maxErrorRate: number;
  /** Lowest acceptable share of successful calls (timeouts and 429s count). Default 0.98. */
  minSuccessRate: number;
  /** Highest acceptable p99 latency in ms (time to answer, or to first chunk). Default 500. */
  maxP99Ms: number;
  /** One-sided confidence needed to call a threshold breached. Default 0.95. */
  confidence: number;
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
  /** Failing evaluations in a row that roll the canary back. Default 2. */
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
  /** A request header forcing a side, for testing: `always` or `never`. Default `x-inference-canary`; `false` turns it off. */
  overrideHeader?: string | false;
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
}
