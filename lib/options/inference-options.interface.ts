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
  /** Time source, for tests. Defaults to the system clock. */
  clock?: Clock;
  /** Random source in [0, 1), for retry jitter; for tests. Defaults to `Math.random`. */
  random?: () => number;
}
