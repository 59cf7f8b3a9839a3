import type { Clock } from '../client/clock.js';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import type { RolloutStore } from '../canary/rollout.store.js';
import type {
  CanaryShadowOptions,
  CanaryFastFailOptions,
  CanaryThresholds,
  ModelPrice,
  PoolOptions,
  RetryOptions,
  ShutdownOptions,
  TimeoutOptions,
} from './inference-options.interface.js';
import type { InferenceErrorOptions } from '../errors/to-http-exception.js';
import type { Secret } from './secret.js';

/** One provider's options after validation, with every default filled in. */
export interface ResolvedProviderOptions {
  name: string;
  /** Origin only (`https://host:port`): one connection pool per origin. */
  origin: string;
  /** Path prefix from `baseUrl`, without a trailing slash (`/v1`). */
  basePath: string;
  apiKey: Secret;
  defaultModel?: string;
  /** Extra headers, names lowercased, without the secret ones. */
  headers: Readonly<Record<string, string>>;
  /** Headers whose values are credentials (by name, or listed in `secretHeaders`), kept like `apiKey`. */
  secretHeaders: ReadonlyMap<string, Secret>;
  streamUsage: boolean;
  maxResponseBytes: number;
  timeouts: Readonly<TimeoutOptions>;
  retry: Readonly<RetryOptions>;
  pool: Readonly<PoolOptions>;
  /** By the provider's model name; `cachedInput` filled in. */
  prices: ReadonlyMap<string, Readonly<Required<ModelPrice>>>;
}

export interface ResolvedInferenceOptions {
  providers: ReadonlyMap<string, ResolvedProviderOptions>;
  /** Logical model → provider → the provider's model name. */
  models: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Groups of concrete names that are the same model on different providers: provider → name. */
  equivalentModels: readonly ReadonlyMap<string, string>[];
  defaultProvider: string;
  shutdown: Readonly<ShutdownOptions>;
  canary?: ResolvedCanaryOptions;
  telemetry: { enabled: boolean; meterProvider?: MeterProvider; tracerProvider?: TracerProvider };
  errors: Readonly<Required<InferenceErrorOptions>>;
  clock: Clock;
  random: () => number;
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
