import { pricesRule, type ModelPrice } from '../pricing/call-cost.js';
import {
  bool,
  duration,
  group,
  headers,
  httpUrl,
  integer,
  optional,
  strings,
  text,
  TIMEOUTS,
  INVALID,
  isDict,
  record,
  type Resolved,
  type Rule,
  type TableOf,
  type TimeoutOptions,
} from '../rules/index.js';
import type { Clock } from './clock.js';
import { OWNED_HEADERS, SECRET_HEADERS } from './header-rules.js';
import { Secret } from './secret.js';

/*
 * The provider client's own option tables: a provider as the app configures it, its rules and
 * defaults, and what the client gets once resolved (inferred from the tables). The module's
 * options (`options/`) compose them and re-export their names. The timeouts are the one table
 * providers, calls and routes share (`rules/timeouts.ts`).
 */
export {
  CALL_TIMEOUT_FIELDS,
  type CallTimeoutOptions,
  type TimeoutOptions,
} from '../rules/index.js';

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

const MiB = 1024 * 1024;

const RETRY = {
  maxRetries: { rule: integer(0, 10), default: 2 },
  baseDelayMs: { rule: duration(0), default: 250 },
  maxDelayMs: { rule: duration(0), default: 8_000 },
  afterTimeout: { rule: bool, default: false },
} satisfies TableOf<RetryOptions>;

const POOL = {
  connections: { rule: integer(1, 10_000), default: 128 },
  keepAliveTimeoutMs: { rule: duration(), default: 4_000 },
} satisfies TableOf<PoolOptions>;

/**
 * No timeout may outlast the total budget. A default is lowered to fit a smaller `totalMs`; a
 * value the user set is an error, since it could never fire.
 */
const timeouts = group(TIMEOUTS, (resolved, at, given) => {
  const total = at.child('totalMs').name;
  let valid = true;
  for (const field of ['connectMs', 'headersMs', 'firstChunkMs', 'idleMs'] as const) {
    if (field === 'headersMs' && resolved.headersMs === 0) continue; // off
    if (given[field] === undefined) resolved[field] = Math.min(resolved[field], resolved.totalMs);
    else if (resolved[field] > resolved.totalMs) {
      valid = false;
      at.child(field).fail(
        `(${resolved[field]} ms) is longer than ${total} (${resolved.totalMs} ms), so it could never fire. Lower it or raise ${total}.`,
      );
    }
  }
  return valid ? resolved : INVALID;
});

/** A default base delay is lowered to fit a smaller `maxDelayMs`; a base set above it is an error. */
const retry = group(RETRY, (resolved, at, given) => {
  if (given.baseDelayMs === undefined) {
    resolved.baseDelayMs = Math.min(resolved.baseDelayMs, resolved.maxDelayMs);
  }
  if (resolved.baseDelayMs <= resolved.maxDelayMs) return resolved;
  const [base, max] = [at.child('baseDelayMs').name, at.child('maxDelayMs').name];
  return at
    .child('baseDelayMs')
    .fail(
      `(${resolved.baseDelayMs} ms) is above ${max} (${resolved.maxDelayMs} ms). Lower ${base} or raise ${max}.`,
    );
});

function providerTable(name: string) {
  const env = name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return {
    baseUrl: {
      rule: httpUrl(
        "Set it to the provider's API root, such as 'https://api.example.com/v1'.",
        true,
      ),
    },
    apiKey: {
      rule: text(
        `Set it to the provider's API key, for example apiKey: process.env.${env}_API_KEY.`,
      ),
    },
    defaultModel: {
      rule: optional(text("Name a model, such as 'gpt-4.1', or leave the field out.")),
    },
    headers: { rule: headers(OWNED_HEADERS) },
    secretHeaders: {
      rule: strings((header) => header !== ''),
      default: [],
      hint: () => "must be a list of header names, such as ['x-portkey-api-key'].",
    },
    streamUsage: { rule: bool, default: true },
    maxResponseBytes: { rule: integer(1, 1024 * MiB), default: 10 * MiB },
    timeouts: { rule: timeouts },
    retry: { rule: retry },
    pool: { rule: group(POOL) },
    prices: { rule: pricesRule },
  } satisfies TableOf<ProviderOptions>;
}

/** One provider's options after validation, with every default filled in. */
function resolvedProvider(
  name: string,
  { baseUrl, apiKey, headers, secretHeaders, ...rest }: Resolved<ReturnType<typeof providerTable>>,
) {
  // Headers whose values are credentials (by name, or listed in `secretHeaders`) are kept apart,
  // like `apiKey`; the others keep their lowercased names.
  const plain: Record<string, string> = {};
  const secret = new Map<string, Secret>();
  const marked = secretHeaders.map((header) => header.toLowerCase());
  for (const [header, value] of Object.entries(headers)) {
    if (SECRET_HEADERS.has(header) || marked.includes(header))
      secret.set(header, new Secret(value));
    else plain[header] = value;
  }
  return {
    name,
    /** Origin only (`https://host:port`): one connection pool per origin. */
    origin: baseUrl.origin,
    /** Path prefix from `baseUrl`, without a trailing slash (`/v1`). */
    basePath: baseUrl.pathname.replace(/\/+$/, ''),
    apiKey: new Secret(apiKey),
    headers: plain as Readonly<Record<string, string>>,
    secretHeaders: secret as ReadonlyMap<string, Secret>,
    ...rest,
  };
}

export type ResolvedProviderOptions = ReturnType<typeof resolvedProvider>;

const PROVIDER_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ADD_PROVIDER =
  "Add at least one, for example providers: { main: { baseUrl: 'https://api.example.com/v1', apiKey: process.env.API_KEY } }.";

/** One provider, under a name logs and metrics can carry. */
const provider: Rule<ResolvedProviderOptions> = (given, at) => {
  const name = String(at.key);
  const named = PROVIDER_NAME.test(name);
  if (!named) {
    at.fail(
      "is not a usable provider name. Use letters, digits, '-' or '_' (it appears in logs and metrics).",
    );
  }
  const resolved = group(providerTable(name), (options) => resolvedProvider(name, options))(
    given,
    at,
  );
  return named ? resolved : INVALID;
};

/** `providers`: at least one, by name. */
export const providersRule: Rule<Map<string, ResolvedProviderOptions>> = (value, at) => {
  if (value === undefined) return at.fail(`is missing. ${ADD_PROVIDER}`);
  if (isDict(value) && Object.keys(value).length === 0) {
    return at.fail(`has no providers. ${ADD_PROVIDER}`);
  }
  return record(provider)(value, at);
};

/**
 * What the provider registry gets: each provider's own resolved options, and the few things the
 * module shares with it.
 */
export interface ProviderRegistryOptions {
  providers: ReadonlyMap<string, ResolvedProviderOptions>;
  defaultProvider: string;
  /** Where embeddings go: the rollout's stable provider, or the default one. */
  embeddingsProvider: string;
  /** How long pools may take to close once the app's hooks ran (`shutdown.abandonGraceMs`). */
  closeGraceMs: number;
  clock: Clock;
  random: () => number;
}

/** Injection token of the registry's `ProviderRegistryOptions`, sliced from the module's options. */
export const PROVIDER_REGISTRY_OPTIONS = Symbol('nestjs-inference:provider-registry-options');
