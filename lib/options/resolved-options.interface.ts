import type { Clock } from '../client/clock.js';
import type {
  PoolOptions,
  RetryOptions,
  ShutdownOptions,
  TimeoutOptions,
} from './inference-options.interface.js';
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
  headers: Readonly<Record<string, string>>;
  timeouts: Readonly<TimeoutOptions>;
  retry: Readonly<RetryOptions>;
  pool: Readonly<PoolOptions>;
}

export interface ResolvedInferenceOptions {
  providers: ReadonlyMap<string, ResolvedProviderOptions>;
  defaultProvider: string;
  shutdown: Readonly<ShutdownOptions>;
  clock: Clock;
  random: () => number;
}
