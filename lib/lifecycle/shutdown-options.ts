import type { Clock } from '../client/clock.js';
import {
  defaultsOf,
  duration,
  group,
  integer,
  oneOf,
  optional,
  shown,
  type Rule,
  type RuleValue,
  type TableOf,
} from '../rules/index.js';

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

/** Node writes the keep-alive hint in whole seconds: below 1 s it tells clients not to reuse. */
const MIN_KEEP_ALIVE_TIMEOUT_MS = 1_000;

const keepAlive: Rule<number> = (value, at) =>
  typeof value === 'number' && value >= MIN_KEEP_ALIVE_TIMEOUT_MS
    ? duration()(value, at)
    : at.fail(
        `must be an integer number of milliseconds ≥ 1000 (clients get the keep-alive timeout in whole seconds), got ${shown(value)}.`,
      );

/**
 * The shutdown options' table. Under a test runner (`NODE_ENV=test`) there is no readiness delay
 * and idle connections are closed once nothing is in flight. The keep-alive timeout plus the 1 s
 * Node waits beyond it fits within the readiness delay: every socket idle at the signal has
 * expired by the time the listener closes.
 */
export function shutdownTable(env: NodeJS.ProcessEnv = process.env) {
  const testing = env.NODE_ENV === 'test';
  return {
    readinessDelayMs: { rule: duration(0), default: testing ? 0 : 5_000 },
    drainTimeoutMs: { rule: duration(), default: 30_000 },
    abandonGraceMs: { rule: duration(0), default: 1_000 },
    secondSignal: { rule: oneOf(['force', 'ignore']), default: 'force' },
    abandonedExitCode: {
      rule: integer(1, 125),
      default: 75,
      hint: (value: unknown) => `must be an integer exit code from 1 to 125, got ${shown(value)}.`,
    },
    retryAfterMs: { rule: duration(), default: 1_000 },
    keepAliveTimeoutMs: { rule: keepAlive, default: 4_000 },
    idleConnections: { rule: oneOf(['expire', 'close']), default: testing ? 'close' : 'expire' },
    terminationGracePeriodMs: { rule: optional(duration()) },
  } satisfies TableOf<ShutdownOptions>;
}

/** The shutdown defaults under `env`. */
export const defaultShutdown = (env: NodeJS.ProcessEnv = process.env) =>
  defaultsOf(shutdownTable(env));

/** `shutdown`, by the table of the environment the app starts in. */
export const shutdownRule = (env: NodeJS.ProcessEnv = process.env) => group(shutdownTable(env));

export type ResolvedShutdownOptions = RuleValue<ReturnType<typeof shutdownRule>>;

/** What the in-flight registry and the shutdown coordinator read of the module's resolved options. */
export interface LifecycleOptions {
  shutdown: Readonly<ShutdownOptions>;
  clock: Clock;
}
