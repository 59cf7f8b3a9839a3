import type { ModelPrice } from '../pricing/call-cost.js';
import type { Clock } from './clock.js';
import type { Secret } from './secret.js';

/*
 * The provider client's own option tables: a provider as the app configures it, and as the client
 * gets it once resolved. The module's options (`options/`) compose them, fill in their defaults,
 * validate them, and re-export their names.
 */

/** The budgets a single call may override; `connectMs` belongs to the provider's connection pool. */
export const CALL_TIMEOUT_FIELDS = ['headersMs', 'firstChunkMs', 'idleMs', 'totalMs'] as const;

/**
 * What bounds a call. A unary call's response headers usually come only when the whole
 * generation is done, so a unary call is bounded by `totalMs` until they arrive (and by `headersMs`
 * if you set it), then by `idleMs` between body reads. A stream is bounded by `firstChunkMs` until
 * its first chunk, then by `idleMs` between chunks. SSE comments (`: keep-alive`) are not progress:
 * they reset neither budget. `totalMs` bounds everything: attempts, backoff and a fallback.
 */
export interface TimeoutOptions {
  /** Opening a TCP/TLS connection. Default 5,000 ms. */
  connectMs: number;
  /**
   * From sending the request to the response headers, for unary calls and streams. Default 0:
   * no bound of its own (a unary generation may take minutes before its headers); set it when
   * your provider sends headers at once.
   */
  headersMs: number;
  /** Streams: from sending the request to the first chunk (comments do not count). Default 60,000 ms. */
  firstChunkMs: number;
  /** Longest silence between two body reads, or two stream chunks. Default 30,000 ms. */
  idleMs: number;
  /** The whole call: retries, backoff and a canary's fallback included. Default 120,000 ms. */
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

/** What the provider registry reads of the module's resolved options. */
export interface ProviderRegistryOptions {
  providers: ReadonlyMap<string, ResolvedProviderOptions>;
  defaultProvider: string;
  /** Embeddings go to the rollout's stable provider. */
  canary?: { stable: string };
  shutdown: { abandonGraceMs: number };
  clock: Clock;
  random: () => number;
}
