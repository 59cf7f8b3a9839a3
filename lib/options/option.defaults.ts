import type {
  PoolOptions,
  RetryOptions,
  ShutdownOptions,
  TimeoutOptions,
} from './inference-options.interface.js';

export const DEFAULT_TIMEOUTS: Readonly<TimeoutOptions> = {
  connectMs: 5_000,
  headersMs: 60_000,
  idleMs: 30_000,
  totalMs: 120_000,
};

export const DEFAULT_RETRY: Readonly<RetryOptions> = {
  maxRetries: 2,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
};

export const DEFAULT_POOL: Readonly<PoolOptions> = {
  connections: 128,
  keepAliveTimeoutMs: 4_000,
};

/** The budgets a single call may override; `connectMs` belongs to the provider's connection pool. */
export const CALL_TIMEOUT_FIELDS = ['headersMs', 'idleMs', 'totalMs'] as const;

/** Node timers overflow above 2^31 - 1 ms (about 24.8 days); a day is more than any call needs. */
export const MAX_DURATION_MS = 86_400_000;
export const MAX_RETRIES = 10;
export const MAX_CONNECTIONS = 10_000;

/** Shutdown defaults; the readiness delay is 0 under a test runner (`NODE_ENV=test`). */
export function defaultShutdown(env: NodeJS.ProcessEnv = process.env): ShutdownOptions {
  return {
    readinessDelayMs: env.NODE_ENV === 'test' ? 0 : 5_000,
    drainTimeoutMs: 30_000,
    abandonGraceMs: 1_000,
    secondSignal: 'force',
    abandonedExitCode: 75,
    retryAfterMs: 1_000,
  };
}

export const SECOND_SIGNAL_CHOICES = ['force', 'ignore'] as const;
