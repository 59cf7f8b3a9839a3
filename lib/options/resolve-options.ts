import { systemClock, type Clock } from '../client/clock.js';
import type {
  PoolOptions,
  RetryOptions,
  ShutdownOptions,
  TimeoutOptions,
} from './inference-options.interface.js';
import { InferenceOptionsError } from './inference-options.error.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_POOL,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUTS,
  defaultShutdown,
  IDLE_CONNECTIONS_CHOICES,
  MAX_CONNECTIONS,
  MAX_DURATION_MS,
  MAX_RESPONSE_BYTES_LIMIT,
  MAX_RETRIES,
  MIN_KEEP_ALIVE_TIMEOUT_MS,
  SECOND_SIGNAL_CHOICES,
} from './option.defaults.js';
import { OptionMessages as M } from './option.messages.js';
import type {
  ResolvedInferenceOptions,
  ResolvedProviderOptions,
} from './resolved-options.interface.js';
import { OWNED_HEADERS, SECRET_HEADERS } from '../client/header-rules.js';
import { Secret } from '../client/secret.js';
import {
  boundedInteger,
  checkKeys,
  isDict,
  isSet,
  positiveDuration,
  requiredString,
  resolveHeaders,
  resolveNumbers,
  type Problems,
} from './option-checks.js';
import { resolveCanary } from './resolve-canary.js';
import {
  checkModelsCoverRollout,
  resolveEquivalentModels,
  resolveModels,
  resolvePrices,
} from './resolve-models.js';

const TOP_KEYS = [
  'providers',
  'models',
  'equivalentModels',
  'defaultProvider',
  'shutdown',
  'canary',
  'telemetry',
  'errors',
  'clock',
  'random',
] as const;
const PROVIDER_KEYS = [
  'baseUrl',
  'apiKey',
  'defaultModel',
  'headers',
  'secretHeaders',
  'streamUsage',
  'maxResponseBytes',
  'timeouts',
  'retry',
  'pool',
  'prices',
] as const;
const TIMEOUT_KEYS = Object.keys(DEFAULT_TIMEOUTS);
const RETRY_KEYS = Object.keys(DEFAULT_RETRY);
const POOL_KEYS = Object.keys(DEFAULT_POOL);
const PROVIDER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Validates the module options once, at startup, and fills in every default. Both `forRoot` and
 * `forRootAsync` go through here. Every problem is collected, so one failed start lists them all.
 */
export function resolveInferenceOptions(input: unknown): ResolvedInferenceOptions {
  const problems: Problems = [];
  if (!isDict(input)) throw new InferenceOptionsError([M.notAnObject('The module options')]);
  checkKeys(input, '', TOP_KEYS, problems);

  const providers = new Map<string, ResolvedProviderOptions>();
  const rawProviders = input.providers;
  if (rawProviders === undefined) {
    problems.push(M.missingProviders('providers'));
  } else if (!isDict(rawProviders)) {
    problems.push(M.notAnObject('providers'));
  } else if (Object.keys(rawProviders).length === 0) {
    problems.push(M.noProviders('providers'));
  } else {
    for (const [name, raw] of Object.entries(rawProviders)) {
      const resolved = resolveProvider(name, raw, problems);
      if (resolved) providers.set(name, resolved);
    }
  }

  const names = Object.keys(isDict(rawProviders) ? rawProviders : {});
  const defaultProvider = resolveDefaultProvider(input.defaultProvider, names, problems);
  const shutdown = resolveShutdown(input.shutdown, problems);
  const canary = resolveCanary(input.canary, names, problems);
  const models = resolveModels(input.models, names, problems);
  if (canary) checkModelsCoverRollout(models, [canary.stable, canary.canary], problems);
  const equivalentModels = resolveEquivalentModels(input.equivalentModels, names, models, problems);
  const clock = resolveClock(input.clock, problems);
  const telemetry = resolveTelemetry(input.telemetry, problems);
  const errors = resolveErrors(input.errors, problems);
  if (input.random !== undefined && typeof input.random !== 'function') {
    problems.push(M.notAFunction('random'));
  }

  if (problems.length > 0) throw new InferenceOptionsError(problems);
  return {
    providers,
    models,
    equivalentModels,
    defaultProvider: defaultProvider!,
    shutdown: shutdown!,
    canary,
    telemetry,
    errors,
    clock,
    random: (input.random as (() => number) | undefined) ?? Math.random,
  };
}

function resolveProvider(
  name: string,
  raw: unknown,
  problems: Problems,
): ResolvedProviderOptions | undefined {
  const path = `providers.${name}`;
  if (!PROVIDER_NAME.test(name)) problems.push(M.badProviderName(path));
  if (!isDict(raw)) {
    problems.push(M.notAnObject(path));
    return undefined;
  }
  checkKeys(raw, path, PROVIDER_KEYS, problems);
  const before = problems.length;

  const url = resolveUrl(raw.baseUrl, `${path}.baseUrl`, problems);
  const apiKey = requiredString(
    raw.apiKey,
    `${path}.apiKey`,
    `Set it to the provider's API key, for example apiKey: process.env.${envName(name)}_API_KEY.`,
    problems,
  );
  const defaultModel =
    raw.defaultModel === undefined
      ? undefined
      : requiredString(
          raw.defaultModel,
          `${path}.defaultModel`,
          "Name a model, such as 'gpt-4.1', or leave the field out.",
          problems,
        );
  const headers = resolveHeaders(raw.headers, `${path}.headers`, problems, OWNED_HEADERS);
  const secretHeaders = resolveSecretHeaders(raw.secretHeaders, `${path}.secretHeaders`, problems);
  const streamUsage = optionalBoolean(raw.streamUsage, `${path}.streamUsage`, true, problems);
  const maxResponseBytes =
    raw.maxResponseBytes === undefined
      ? DEFAULT_MAX_RESPONSE_BYTES
      : boundedInteger(
          raw.maxResponseBytes,
          `${path}.maxResponseBytes`,
          1,
          MAX_RESPONSE_BYTES_LIMIT,
        );
  if (typeof maxResponseBytes === 'string') problems.push(maxResponseBytes);
  const timeouts = resolveNumbers<TimeoutOptions>(
    raw.timeouts,
    `${path}.timeouts`,
    DEFAULT_TIMEOUTS,
    TIMEOUT_KEYS,
    problems,
    (value, fieldPath, field) =>
      field === 'headersMs'
        ? boundedInteger(value, fieldPath, 0, MAX_DURATION_MS)
        : positiveDuration(value, fieldPath),
  );
  if (timeouts) fitTimeoutsToTotal(timeouts, raw.timeouts, `${path}.timeouts`, problems);
  const retry = resolveNumbers<RetryOptions>(
    raw.retry,
    `${path}.retry`,
    DEFAULT_RETRY,
    RETRY_KEYS,
    problems,
    (value, fieldPath, field) =>
      field === 'afterTimeout'
        ? typeof value === 'boolean'
          ? value
          : M.notABoolean(fieldPath, value)
        : field === 'maxRetries'
          ? boundedInteger(value, fieldPath, 0, MAX_RETRIES)
          : boundedInteger(value, fieldPath, 0, MAX_DURATION_MS),
  );
  if (retry && !isSet(raw.retry, 'baseDelayMs')) {
    retry.baseDelayMs = Math.min(retry.baseDelayMs, retry.maxDelayMs);
  }
  if (retry && retry.baseDelayMs > retry.maxDelayMs) {
    problems.push(
      M.baseAboveMax(
        `${path}.retry.baseDelayMs`,
        retry.baseDelayMs,
        `${path}.retry.maxDelayMs`,
        retry.maxDelayMs,
      ),
    );
  }
  const pool = resolveNumbers<PoolOptions>(
    raw.pool,
    `${path}.pool`,
    DEFAULT_POOL,
    POOL_KEYS,
    problems,
    (value, fieldPath, field) =>
      field === 'connections'
        ? boundedInteger(value, fieldPath, 1, MAX_CONNECTIONS)
        : positiveDuration(value, fieldPath),
  );

  const prices = resolvePrices(raw.prices, `${path}.prices`, problems);

  if (
    problems.length > before ||
    !url ||
    !apiKey ||
    !headers ||
    !secretHeaders ||
    streamUsage === undefined ||
    typeof maxResponseBytes !== 'number' ||
    !timeouts ||
    !retry ||
    !pool
  ) {
    return undefined;
  }
  return {
    name,
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    apiKey: new Secret(apiKey),
    defaultModel,
    ...splitSecretHeaders(headers, secretHeaders),
    streamUsage,
    maxResponseBytes,
    timeouts,
    retry,
    pool,
    prices,
  };
}

function resolveUrl(value: unknown, path: string, problems: Problems): URL | undefined {
  const text = requiredString(
    value,
    path,
    "Set it to the provider's API root, such as 'https://api.example.com/v1'.",
    problems,
  );
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(M.badUrl(path));
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(M.notHttp(path, url.protocol));
    return undefined;
  }
  if (url.username || url.password) {
    problems.push(M.urlHasCredentials(path));
    return undefined;
  }
  if (url.search || url.hash) {
    problems.push(M.urlHasQuery(path));
    return undefined;
  }
  return url;
}

/**
 * No timeout may outlast the total budget. A default is lowered to fit a smaller `totalMs`; a
 * value the user set is an error, since it could never fire.
 */
function fitTimeoutsToTotal(
  timeouts: TimeoutOptions,
  given: unknown,
  path: string,
  problems: Problems,
): void {
  for (const field of ['connectMs', 'headersMs', 'firstChunkMs', 'idleMs'] as const) {
    if (field === 'headersMs' && timeouts.headersMs === 0) continue; // off
    if (!isSet(given, field)) {
      timeouts[field] = Math.min(timeouts[field], timeouts.totalMs);
    } else if (timeouts[field] > timeouts.totalMs) {
      problems.push(
        M.exceedsTotal(`${path}.${field}`, timeouts[field], `${path}.totalMs`, timeouts.totalMs),
      );
    }
  }
}

function resolveShutdown(value: unknown, problems: Problems): ShutdownOptions | undefined {
  const { secondSignal, idleConnections, ...defaults } = defaultShutdown();
  const {
    secondSignal: givenSignal,
    idleConnections: givenIdle,
    ...given
  } = isDict(value) ? value : {};
  const numbers = resolveNumbers<Omit<ShutdownOptions, 'secondSignal' | 'idleConnections'>>(
    isDict(value) ? given : value,
    'shutdown',
    defaults,
    [...Object.keys(defaults), 'terminationGracePeriodMs', 'secondSignal', 'idleConnections'],
    problems,
    (field, path, key) => {
      if (key === 'abandonedExitCode') {
        const ok =
          typeof field === 'number' && Number.isInteger(field) && field >= 1 && field <= 125;
        return ok ? field : M.badExitCode(path, field);
      }
      if (key === 'readinessDelayMs' || key === 'abandonGraceMs') {
        return boundedInteger(field, path, 0, MAX_DURATION_MS);
      }
      if (key === 'keepAliveTimeoutMs') {
        const ok = typeof field === 'number' && field >= MIN_KEEP_ALIVE_TIMEOUT_MS;
        return ok ? positiveDuration(field, path) : M.keepAliveTooShort(path, field);
      }
      return positiveDuration(field, path);
    },
  );
  if (givenSignal !== undefined && !SECOND_SIGNAL_CHOICES.includes(givenSignal as 'force')) {
    problems.push(M.notOneOf('shutdown.secondSignal', givenSignal, SECOND_SIGNAL_CHOICES));
    return undefined;
  }
  if (givenIdle !== undefined && !IDLE_CONNECTIONS_CHOICES.includes(givenIdle as 'expire')) {
    problems.push(M.notOneOf('shutdown.idleConnections', givenIdle, IDLE_CONNECTIONS_CHOICES));
    return undefined;
  }
  if (!numbers) return undefined;
  return {
    ...numbers,
    secondSignal: (givenSignal as ShutdownOptions['secondSignal']) ?? secondSignal,
    idleConnections: (givenIdle as ShutdownOptions['idleConnections']) ?? idleConnections,
  };
}

function resolveDefaultProvider(
  value: unknown,
  names: readonly string[],
  problems: Problems,
): string | undefined {
  const path = 'defaultProvider';
  if (value === undefined) {
    if (names.length === 1) return names[0];
    if (names.length > 1) problems.push(M.ambiguousDefaultProvider(path, names));
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.push(M.notAString(path, `Use one of: ${names.join(', ')}.`));
    return undefined;
  }
  if (names.length > 0 && !names.includes(value)) {
    problems.push(M.unknownDefaultProvider(path, value, names));
    return undefined;
  }
  return value;
}

function resolveTelemetry(
  value: unknown,
  problems: Problems,
): ResolvedInferenceOptions['telemetry'] {
  if (value === undefined) return { enabled: true };
  if (value === false) return { enabled: false };
  if (!isDict(value)) {
    problems.push(M.notAnObject('telemetry'));
    return { enabled: false };
  }
  checkKeys(value, 'telemetry', ['meterProvider', 'tracerProvider'], problems);
  const { meterProvider, tracerProvider } = value as Record<
    string,
    { getMeter?: unknown; getTracer?: unknown } | undefined
  >;
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
    problems.push(M.notAProvider('telemetry.meterProvider', 'getMeter'));
  }
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function') {
    problems.push(M.notAProvider('telemetry.tracerProvider', 'getTracer'));
  }
  return { enabled: true, ...(value as Omit<ResolvedInferenceOptions['telemetry'], 'enabled'>) };
}

function resolveErrors(value: unknown, problems: Problems): ResolvedInferenceOptions['errors'] {
  if (value === undefined) return { exposeProviderNames: false };
  if (!isDict(value)) {
    problems.push(M.notAnObject('errors'));
    return { exposeProviderNames: false };
  }
  checkKeys(value, 'errors', ['exposeProviderNames'], problems);
  const { exposeProviderNames = false } = value;
  if (typeof exposeProviderNames !== 'boolean') {
    problems.push(M.notOneOf('errors.exposeProviderNames', exposeProviderNames, ['true', 'false']));
  }
  return { exposeProviderNames: exposeProviderNames === true };
}

function resolveClock(value: unknown, problems: Problems): Clock {
  if (value === undefined) return systemClock;
  if (
    !isDict(value) ||
    typeof value.now !== 'function' ||
    typeof value.setTimeout !== 'function' ||
    typeof value.clearTimeout !== 'function'
  ) {
    problems.push(M.notAFunction('clock (now, setTimeout, clearTimeout)'));
    return systemClock;
  }
  return value as unknown as Clock;
}

function envName(providerName: string): string {
  return providerName.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Names of further secret headers: lowercased; each must be a header name. */
function resolveSecretHeaders(
  value: unknown,
  path: string,
  problems: Problems,
): string[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string' || name === '')) {
    problems.push(M.badHeaderList(path));
    return undefined;
  }
  return (value as string[]).map((name) => name.toLowerCase());
}

function optionalBoolean(
  value: unknown,
  path: string,
  fallback: boolean,
  problems: Problems,
): boolean | undefined {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  problems.push(M.notABoolean(path, value));
  return undefined;
}

/** The provider's headers, with those whose values are credentials kept apart, as secrets. */
function splitSecretHeaders(
  all: Record<string, string>,
  marked: readonly string[],
): Pick<ResolvedProviderOptions, 'headers' | 'secretHeaders'> {
  const headers: Record<string, string> = {};
  const secretHeaders = new Map<string, Secret>();
  for (const [name, value] of Object.entries(all)) {
    if (SECRET_HEADERS.has(name) || marked.includes(name))
      secretHeaders.set(name, new Secret(value));
    else headers[name] = value;
  }
  return { headers, secretHeaders };
}
