import type {
  CanaryFastFailOptions,
  CanaryPhase,
  CanaryThresholds,
  PoolOptions,
  RetryOptions,
  ShutdownOptions,
  TimeoutOptions,
} from './inference-options.interface.js';

export const DEFAULT_TIMEOUTS: Readonly<TimeoutOptions> = {
  connectMs: 5_000,
  headersMs: 0,
  firstChunkMs: 60_000,
  idleMs: 30_000,
  totalMs: 120_000,
};

export const DEFAULT_RETRY: Readonly<RetryOptions> = {
  maxRetries: 2,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  afterTimeout: false,
};

export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
export const MAX_RESPONSE_BYTES_LIMIT = 1024 * 1024 * 1024;

export const DEFAULT_POOL: Readonly<PoolOptions> = {
  connections: 128,
  keepAliveTimeoutMs: 4_000,
};

export { CALL_TIMEOUT_FIELDS } from '../client/provider-options.js';

/**
 * The bound on every duration option (provider, shutdown, canary, route and call budgets). Node
 * timers overflow above 2^31 - 1 ms (about 24.8 days) and then fire after 1 ms; a day is more
 * than any call needs.
 */
export const MAX_DURATION_MS = 86_400_000;
export const MAX_RETRIES = 10;
export const MAX_CONNECTIONS = 10_000;

/**
 * Shutdown defaults. Under a test runner (`NODE_ENV=test`) there is no readiness delay and idle
 * connections are closed once nothing is in flight. The keep-alive timeout plus the 1 s Node
 * waits beyond it fits within the readiness delay: every socket idle at the signal has expired
 * by the time the listener closes.
 */
export function defaultShutdown(env: NodeJS.ProcessEnv = process.env): ShutdownOptions {
  const testing = env.NODE_ENV === 'test';
  return {
    readinessDelayMs: testing ? 0 : 5_000,
    drainTimeoutMs: 30_000,
    abandonGraceMs: 1_000,
    secondSignal: 'force',
    abandonedExitCode: 75,
    retryAfterMs: 1_000,
    keepAliveTimeoutMs: 4_000,
    idleConnections: testing ? 'close' : 'expire',
  };
}

export const SECOND_SIGNAL_CHOICES = ['force', 'ignore'] as const;
export const IDLE_CONNECTIONS_CHOICES = ['expire', 'close'] as const;

/** Node writes the keep-alive hint in whole seconds: below 1 s it tells clients not to reuse. */
export const MIN_KEEP_ALIVE_TIMEOUT_MS = 1_000;

const MINUTE = 60_000;

/** 1% for 15 min, 5% for 30 min, 25% for 1 h, 50% for 2 h, then 100%. */
export const DEFAULT_PHASES: readonly CanaryPhase[] = [
  { weight: 1, durationMs: 15 * MINUTE },
  { weight: 5, durationMs: 30 * MINUTE },
  { weight: 25, durationMs: 60 * MINUTE },
  { weight: 50, durationMs: 120 * MINUTE },
  { weight: 100 },
];

/** Margins on canary − stable; the absolute ceilings (`maxErrorRate`, …) are off by default. */
export const DEFAULT_THRESHOLDS: Readonly<CanaryThresholds> = {
  maxErrorRateIncrease: 0.003,
  maxSuccessRateDrop: 0.005,
  maxAttemptErrorRateIncrease: 0.05,
  maxLatencyRatio: 1.5,
  maxIncompatibleRate: 0.01,
  incidentFailureRate: 0.05,
  confidence: 0.99,
  maxQualityRateIncrease: 0.015,
};

export const DEFAULT_SHADOW = {
  maxConcurrent: 4,
  maxUsdPerHour: 1,
  excludeTools: true,
  baselineShare: 0.2,
  timeoutMs: 30_000,
  compareTimeoutMs: 2_000,
  compareConcurrency: 2,
  maxSimilarityDrop: 0.1,
  minBaselinePairs: 20,
};

export const DEFAULT_FEEDBACK = { maxRelativeDrop: 0.05, maxTracked: 100_000 };

/** Threshold fields that have no default: set, they add an absolute ceiling. */
export const OPTIONAL_THRESHOLDS = ['maxErrorRate', 'minSuccessRate', 'maxP99Ms'] as const;

export const DEFAULT_FAST_FAIL: Readonly<CanaryFastFailOptions> = {
  windowMs: 10_000,
  minCalls: 20,
  failureRate: 0.5,
};

export const DEFAULT_CANARY = {
  intervalMs: MINUTE,
  minSamples: 100,
  consecutiveFailures: 1,
  warmupProbes: 3,
  warmupMaxFailures: 3,
  stickyHeaders: ['x-user-id'],
  /** The override header's name when `overrideHeader: true`; it is off by default. */
  overrideHeader: 'x-inference-canary',
  webhookTimeoutMs: 2_000,
  webhookRetries: 3,
} as const;
