import type { IncomingHttpHeaders } from 'node:http';
import type { RolloutStore } from '../canary/rollout.store.js';
import type { CanaryFastFailOptions, CanaryThresholds } from './inference-options.interface.js';
import {
  DEFAULT_CANARY,
  DEFAULT_FAST_FAIL,
  DEFAULT_FEEDBACK,
  DEFAULT_SHADOW,
  DEFAULT_PHASES,
  DEFAULT_THRESHOLDS,
  OPTIONAL_THRESHOLDS,
} from './option.defaults.js';
import { OptionMessages as M } from './option.messages.js';
import type {
  ResolvedCanaryOptions,
  ResolvedPhase,
  ResolvedShadowOptions,
} from './resolved-options.interface.js';
import {
  boundedInteger,
  checkKeys,
  isDict,
  positiveDuration,
  requiredString,
  resolveHeaders,
  resolveNumbers,
  type Problems,
} from './option-checks.js';

const CANARY_KEYS = [
  'stable',
  'canary',
  'phases',
  'intervalMs',
  'minSamples',
  'thresholds',
  'consecutiveFailures',
  'fastFail',
  'warmup',
  'stickyKey',
  'overrideHeader',
  'salt',
  'autoStart',
  'store',
  'syncIntervalMs',
  'staleAfterMs',
  'webhook',
  'shadow',
  'feedback',
] as const;
const SHADOW_KEYS = [
  'maxConcurrent',
  'maxUsdPerHour',
  'excludeTools',
  'baselineShare',
  'timeoutMs',
  'compare',
  'compareTimeoutMs',
  'compareConcurrency',
  'gate',
] as const;
const STORE_METHODS = ['read', 'write', 'acquireLease', 'publishMetrics', 'readMetrics'] as const;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Validates `canary` against the configured providers; undefined when there is no rollout. */
export function resolveCanary(
  value: unknown,
  providerNames: readonly string[],
  problems: Problems,
): ResolvedCanaryOptions | undefined {
  if (value === undefined) return undefined;
  if (!isDict(value)) {
    problems.push(M.notAnObject('canary'));
    return undefined;
  }
  checkKeys(value, 'canary', CANARY_KEYS, problems);
  const before = problems.length;
  const stable = providerName(value.stable, 'canary.stable', providerNames, problems);
  const canary = providerName(value.canary, 'canary.canary', providerNames, problems);
  if (stable !== undefined && stable === canary) problems.push(M.sameProvider('canary.canary'));

  const phases = resolvePhases(value.phases, problems);
  const intervalMs = duration(
    value.intervalMs,
    'canary.intervalMs',
    DEFAULT_CANARY.intervalMs,
    problems,
  );
  const minSamples = integer(
    value.minSamples,
    'canary.minSamples',
    DEFAULT_CANARY.minSamples,
    1,
    problems,
  );
  const consecutiveFailures = integer(
    value.consecutiveFailures,
    'canary.consecutiveFailures',
    DEFAULT_CANARY.consecutiveFailures,
    1,
    problems,
  );
  const thresholds = resolveNumbers<CanaryThresholds>(
    value.thresholds,
    'canary.thresholds',
    DEFAULT_THRESHOLDS,
    [...Object.keys(DEFAULT_THRESHOLDS), ...OPTIONAL_THRESHOLDS],
    problems,
    (field, path, key) => {
      if (key === 'maxP99Ms') return positiveDuration(field, path);
      if (key === 'maxLatencyRatio') {
        const ok = typeof field === 'number' && field >= 1 && field <= 100;
        return ok ? field : M.badRatio(path, field);
      }
      if (key === 'confidence') {
        const ok = typeof field === 'number' && field >= 0.5 && field <= 0.9999;
        return ok ? field : M.badConfidence(path, field);
      }
      return share(field, path);
    },
  );
  const fastFail =
    value.fastFail === false
      ? undefined
      : resolveNumbers<CanaryFastFailOptions>(
          value.fastFail,
          'canary.fastFail',
          DEFAULT_FAST_FAIL,
          Object.keys(DEFAULT_FAST_FAIL),
          problems,
          (field, path, key) => {
            if (key === 'windowMs') return positiveDuration(field, path);
            if (key === 'minCalls') return boundedInteger(field, path, 1, 1_000_000);
            return share(field, path);
          },
        );
  const warmup = resolveNumbers<{ probes: number; maxFailures: number }>(
    value.warmup,
    'canary.warmup',
    { probes: DEFAULT_CANARY.warmupProbes, maxFailures: DEFAULT_CANARY.warmupMaxFailures },
    ['probes', 'maxFailures'],
    problems,
    (field, path, key) => boundedInteger(field, path, key === 'probes' ? 0 : 1, 100),
  );
  const stickyKey = resolveStickyKey(value.stickyKey, problems);
  const overrideHeader = resolveOverrideHeader(value.overrideHeader, problems);
  const salt =
    value.salt === undefined
      ? undefined
      : requiredString(value.salt, 'canary.salt', 'Use any string, or leave it out.', problems);
  if (value.autoStart !== undefined && typeof value.autoStart !== 'boolean') {
    problems.push(M.notOneOf('canary.autoStart', value.autoStart, ['true', 'false']));
  }
  const store = resolveStore(value.store, problems);
  const syncIntervalMs = duration(
    value.syncIntervalMs,
    'canary.syncIntervalMs',
    Math.min(intervalMs ?? DEFAULT_CANARY.intervalMs, 5_000),
    problems,
  );
  const staleAfterMs = duration(
    value.staleAfterMs,
    'canary.staleAfterMs',
    3 * (syncIntervalMs ?? 5_000),
    problems,
  );
  const webhook = resolveWebhook(value.webhook, problems);
  const shadow = resolveShadow(value.shadow, minSamples ?? DEFAULT_CANARY.minSamples, problems);
  const feedback = resolveFeedback(
    value.feedback,
    minSamples ?? DEFAULT_CANARY.minSamples,
    problems,
  );

  if (problems.length > before) return undefined;
  return {
    stable: stable!,
    canary: canary!,
    phases: phases!,
    intervalMs: intervalMs!,
    minSamples: minSamples!,
    thresholds: thresholds!,
    consecutiveFailures: consecutiveFailures!,
    fastFail,
    warmup: warmup!,
    stickyKey: stickyKey!,
    overrideHeader,
    salt,
    autoStart: value.autoStart === true,
    store,
    syncIntervalMs: syncIntervalMs!,
    staleAfterMs: staleAfterMs!,
    webhook,
    shadow: shadow!,
    feedback: feedback!,
  };
}

function resolveShadow(
  value: unknown,
  minSamples: number,
  problems: Problems,
): ResolvedShadowOptions | undefined {
  const path = 'canary.shadow';
  const given = value ?? {};
  if (!isDict(given)) {
    problems.push(M.notAnObject(path));
    return undefined;
  }
  checkKeys(given, path, SHADOW_KEYS, problems);
  const before = problems.length;
  const maxConcurrent = integer(
    given.maxConcurrent,
    `${path}.maxConcurrent`,
    DEFAULT_SHADOW.maxConcurrent,
    1,
    problems,
  );
  let maxUsdPerHour = DEFAULT_SHADOW.maxUsdPerHour;
  if (given.maxUsdPerHour !== undefined) {
    if (typeof given.maxUsdPerHour === 'number' && given.maxUsdPerHour >= 0) {
      maxUsdPerHour = given.maxUsdPerHour;
    } else {
      problems.push(M.notAPrice(`${path}.maxUsdPerHour`, given.maxUsdPerHour));
    }
  }
  if (given.excludeTools !== undefined && typeof given.excludeTools !== 'boolean') {
    problems.push(M.notOneOf(`${path}.excludeTools`, given.excludeTools, ['true', 'false']));
  }
  let baselineShare = DEFAULT_SHADOW.baselineShare;
  if (given.baselineShare !== undefined) {
    const checked = share(given.baselineShare, `${path}.baselineShare`);
    if (typeof checked === 'string') problems.push(checked);
    else baselineShare = checked;
  }
  const timeoutMs = duration(
    given.timeoutMs,
    `${path}.timeoutMs`,
    DEFAULT_SHADOW.timeoutMs,
    problems,
  );
  if (given.compare !== undefined && typeof given.compare !== 'function') {
    problems.push(M.notAFunction(`${path}.compare`));
  }
  const compareTimeoutMs = duration(
    given.compareTimeoutMs,
    `${path}.compareTimeoutMs`,
    DEFAULT_SHADOW.compareTimeoutMs,
    problems,
  );
  const compareConcurrency = integer(
    given.compareConcurrency,
    `${path}.compareConcurrency`,
    DEFAULT_SHADOW.compareConcurrency,
    1,
    problems,
  );
  const gate =
    given.gate === false
      ? undefined
      : resolveNumbers<{ minPairs: number; maxSimilarityDrop: number; minBaselinePairs: number }>(
          given.gate,
          `${path}.gate`,
          {
            minPairs: minSamples,
            maxSimilarityDrop: DEFAULT_SHADOW.maxSimilarityDrop,
            minBaselinePairs: DEFAULT_SHADOW.minBaselinePairs,
          },
          ['minPairs', 'maxSimilarityDrop', 'minBaselinePairs'],
          problems,
          (field, fieldPath, key) =>
            key === 'maxSimilarityDrop'
              ? share(field, fieldPath)
              : boundedInteger(field, fieldPath, 1, 1_000_000),
        );
  if (problems.length > before) return undefined;
  return {
    maxConcurrent: maxConcurrent!,
    maxUsdPerHour,
    excludeTools: given.excludeTools !== false,
    baselineShare,
    timeoutMs: timeoutMs!,
    compare: given.compare as ResolvedShadowOptions['compare'],
    compareTimeoutMs: compareTimeoutMs!,
    compareConcurrency: compareConcurrency!,
    gate,
  };
}

function resolveFeedback(
  value: unknown,
  minSamples: number,
  problems: Problems,
): ResolvedCanaryOptions['feedback'] | undefined {
  const path = 'canary.feedback';
  const given = value ?? {};
  if (!isDict(given)) {
    problems.push(M.notAnObject(path));
    return undefined;
  }
  const { lowerIsBetter, ...numbers } = given;
  const resolved = resolveNumbers<{
    minSamples: number;
    maxRelativeDrop: number;
    maxTracked: number;
  }>(
    numbers,
    path,
    { minSamples, ...DEFAULT_FEEDBACK },
    ['minSamples', 'maxRelativeDrop', 'maxTracked', 'lowerIsBetter'],
    problems,
    (field, fieldPath, key) =>
      key === 'maxRelativeDrop'
        ? share(field, fieldPath)
        : boundedInteger(field, fieldPath, 1, 10_000_000),
  );
  const names = lowerIsBetter ?? [];
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
    problems.push(M.notNames(`${path}.lowerIsBetter`));
    return undefined;
  }
  return resolved && { ...resolved, lowerIsBetter: names as string[] };
}

function providerName(
  value: unknown,
  path: string,
  names: readonly string[],
  problems: Problems,
): string | undefined {
  const name = requiredString(
    value,
    path,
    `Name a configured provider: ${names.join(', ')}.`,
    problems,
  );
  if (name === undefined) return undefined;
  if (!names.includes(name)) {
    problems.push(M.unknownProvider(path, name, names));
    return undefined;
  }
  return name;
}

function resolvePhases(value: unknown, problems: Problems): ResolvedPhase[] | undefined {
  const path = 'canary.phases';
  if (value === undefined) return resolvePhases(DEFAULT_PHASES, problems);
  if (!Array.isArray(value)) {
    problems.push(M.noPhases(path));
    return undefined;
  }
  if (value.length === 0) {
    problems.push(M.noPhases(path));
    return undefined;
  }
  const phases: ResolvedPhase[] = [];
  let ok = true;
  for (const [index, phase] of value.entries()) {
    const at = `${path}[${index}]`;
    if (!isDict(phase)) {
      problems.push(M.notAnObject(at));
      ok = false;
      continue;
    }
    checkKeys(phase, at, ['weight', 'durationMs', 'shadow'], problems);
    const shadowBps = phase.shadow === undefined ? 0 : percentBps(phase.shadow);
    if (shadowBps === undefined) {
      problems.push(M.badShadowShare(`${at}.shadow`, phase.shadow));
      ok = false;
      continue;
    }
    const weight = phase.weight;
    const weightBps = typeof weight === 'number' ? Math.round(weight * 100) : NaN;
    if (weight === 0 && shadowBps === 0) {
      problems.push(M.zeroWeightWithoutShadow(`${at}.weight`));
      ok = false;
      continue;
    }
    if (
      typeof weight !== 'number' ||
      !(weightBps >= (shadowBps > 0 ? 0 : 1) && weightBps <= 10_000) ||
      Math.abs(weightBps - weight * 100) > 1e-6
    ) {
      problems.push(M.badPhaseWeight(`${at}.weight`, weight));
      ok = false;
      continue;
    }
    if (weightBps === 0 && phase.durationMs === undefined) {
      problems.push(M.shadowNeedsDuration(`${at}.durationMs`));
      ok = false;
      continue;
    }
    const previous = phases.at(-1);
    if (previous && weightBps <= previous.weightBps) {
      problems.push(M.phasesNotIncreasing(`${at}.weight`));
      ok = false;
    }
    if (weightBps === 10_000 && phase.durationMs === undefined) {
      phases.push({ weightBps, ...(shadowBps > 0 ? { shadowBps } : {}) });
      continue;
    }
    if (phase.durationMs === undefined) {
      problems.push(M.phaseNeedsDuration(`${at}.durationMs`));
      ok = false;
      continue;
    }
    const durationMs = positiveDuration(phase.durationMs, `${at}.durationMs`);
    if (typeof durationMs === 'string') {
      problems.push(durationMs);
      ok = false;
      continue;
    }
    phases.push({ weightBps, durationMs, ...(shadowBps > 0 ? { shadowBps } : {}) });
  }
  if (!ok) return undefined;
  // Promotion is the last step, whether or not the list spells out the final 100%.
  if (phases.at(-1)!.weightBps !== 10_000 || phases.at(-1)!.durationMs !== undefined) {
    phases.push({ weightBps: 10_000 });
  }
  return phases;
}

function resolveStickyKey(
  value: unknown,
  problems: Problems,
): ((headers: IncomingHttpHeaders) => string | undefined) | undefined {
  if (typeof value === 'function') {
    return value as (headers: IncomingHttpHeaders) => string | undefined;
  }
  const names = value ?? DEFAULT_CANARY.stickyHeaders;
  if (
    !Array.isArray(names) ||
    names.length === 0 ||
    !names.every((name) => typeof name === 'string' && HEADER_NAME.test(name))
  ) {
    problems.push(M.badStickyKey('canary.stickyKey'));
    return undefined;
  }
  const lower = names.map((name: string) => name.toLowerCase());
  return (headers) => {
    for (const name of lower) {
      const found = headers[name];
      const text = Array.isArray(found) ? found[0] : found;
      if (text) return text;
    }
    return undefined;
  };
}

/** Off unless asked for: a header anyone can send must not steer production traffic by default. */
function resolveOverrideHeader(value: unknown, problems: Problems): string | undefined {
  if (value === false || value === undefined) return undefined;
  if (value === true) return DEFAULT_CANARY.overrideHeader;
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    problems.push(M.badOverrideHeader('canary.overrideHeader'));
    return undefined;
  }
  return value.toLowerCase();
}

function resolveStore(value: unknown, problems: Problems): RolloutStore | undefined {
  if (value === undefined) return undefined;
  const methods = value as Record<string, unknown>;
  if (
    typeof value !== 'object' ||
    value === null ||
    !STORE_METHODS.every((method) => typeof methods[method] === 'function')
  ) {
    problems.push(M.notAStore('canary.store'));
    return undefined;
  }
  return value as RolloutStore;
}

function resolveWebhook(value: unknown, problems: Problems): ResolvedCanaryOptions['webhook'] {
  const path = 'canary.webhook';
  if (value === undefined) return undefined;
  if (!isDict(value)) {
    problems.push(M.notAnObject(path));
    return undefined;
  }
  checkKeys(value, path, ['url', 'timeoutMs', 'retries', 'headers'], problems);
  const text = requiredString(
    value.url,
    `${path}.url`,
    "Use an http(s) URL such as 'https://hooks.example.com/rollout'.",
    problems,
  );
  let url: URL | undefined;
  if (text !== undefined) {
    try {
      url = new URL(text);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        problems.push(M.notHttp(`${path}.url`, url.protocol));
      }
    } catch {
      problems.push(M.badUrl(`${path}.url`));
    }
  }
  const timeoutMs = duration(
    value.timeoutMs,
    `${path}.timeoutMs`,
    DEFAULT_CANARY.webhookTimeoutMs,
    problems,
  );
  const retries = integer(
    value.retries,
    `${path}.retries`,
    DEFAULT_CANARY.webhookRetries,
    0,
    problems,
  );
  const headers = resolveHeaders(value.headers, `${path}.headers`, problems);
  if (!url || timeoutMs === undefined || retries === undefined || !headers) return undefined;
  return { url, timeoutMs, retries, headers };
}

function duration(
  value: unknown,
  path: string,
  fallback: number,
  problems: Problems,
): number | undefined {
  if (value === undefined) return fallback;
  const checked = positiveDuration(value, path);
  if (typeof checked === 'string') {
    problems.push(checked);
    return undefined;
  }
  return checked;
}

function integer(
  value: unknown,
  path: string,
  fallback: number,
  min: number,
  problems: Problems,
): number | undefined {
  if (value === undefined) return fallback;
  const checked = boundedInteger(value, path, min, 1_000_000);
  if (typeof checked === 'string') {
    problems.push(checked);
    return undefined;
  }
  return checked;
}

/** A percentage (0..100, 0.01 steps) in basis points; undefined when it is not one. */
function percentBps(value: unknown): number | undefined {
  if (typeof value !== 'number') return undefined;
  const bps = Math.round(value * 100);
  return bps >= 0 && bps <= 10_000 && Math.abs(bps - value * 100) <= 1e-6 ? bps : undefined;
}

function share(value: unknown, path: string): number | string {
  return typeof value === 'number' && value >= 0 && value <= 1 ? value : M.notAShare(path, value);
}
