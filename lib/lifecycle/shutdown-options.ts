import type { Clock } from '../client/clock.js';

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

/** What the in-flight registry and the shutdown coordinator read of the module's resolved options. */
export interface LifecycleOptions {
  shutdown: Readonly<ShutdownOptions>;
  clock: Clock;
}
