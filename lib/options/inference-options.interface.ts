import type { Clock } from '../client/clock.js';
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
}

export interface InferenceModuleOptions {
  /** Named upstream providers, for example `{ legacy: {...}, next: {...} }`. */
  providers: Record<string, ProviderOptions>;
  /** The provider used when a call names none. Optional when there is exactly one provider. */
  defaultProvider?: string;
  /** How the app shuts down: readiness delay, drain bound, second signal (see `ShutdownOptions`). */
  shutdown?: Partial<ShutdownOptions>;
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
   * The orchestrator's termination grace period (Kubernetes' `terminationGracePeriodSeconds`,
   * in ms). When set, startup warns if the readiness delay plus the drain could outlast it.
   */
  terminationGracePeriodMs?: number;
}
