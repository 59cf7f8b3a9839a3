import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportedNames, type ExportedNames } from './support/exported-names.js';

/*
 * The public API, entry point by entry point: every name, sorted. Adding, removing or renaming one
 * fails here, so each change to the contract is made on purpose (and, for a removal, with the old
 * name kept working and the README saying so).
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Names that moved to `nestjs-inference/canary` or into the README: the root keeps them until 1.0. */
const DEPRECATED_AT_ROOT: ExportedNames = {
  values: [
    'ATTR',
    'CanaryRollout',
    'CanaryRouter',
    'InferenceRouter',
    'METRIC',
    'MemoryRolloutStore',
    'RolloutActionError',
    'ShadowMirror',
  ],
  types: [
    'Answer',
    'AnswerQuality',
    'CallFacts',
    'CallRecord',
    'Estimate',
    'FeedbackFigures',
    'LatencyFigures',
    'PhaseFigures',
    'QualityFigures',
    'QualitySignal',
    'RecordedCall',
    'RolloutAction',
    'RolloutEvaluation',
    'RolloutEvent',
    'RolloutEventType',
    'RolloutListener',
    'RolloutReport',
    'RolloutState',
    'RolloutStatus',
    'RolloutStore',
    'RouteDecision',
    'RouteRequest',
    'ShadowFigures',
    'SideFigures',
    'Verdict',
    'VerdictKind',
  ],
};

const API: Record<string, { file: string } & ExportedNames> = {
  '.': {
    file: 'lib/index.ts',
    values: [
      'InferenceAbortedError',
      'InferenceConnectionError',
      'InferenceError',
      'InferenceExceptionFilter',
      'InferenceHttpError',
      'InferenceIncompleteStreamError',
      'InferenceInterceptor',
      'InferenceModel',
      'InferenceModule',
      'InferenceOptionsError',
      'InferenceProtocolError',
      'InferenceRateLimitError',
      'InferenceRequestError',
      'InferenceService',
      'InferenceShutdownError',
      'InferenceStream',
      'InferenceStreamError',
      'InferenceTimeoutError',
      'InflightRegistry',
      'ModelCatalog',
      'OpenAiExceptionFilter',
      'ShutdownCoordinator',
      'StreamConsumedError',
      'currentRequestContext',
      'enableInferenceShutdownHooks',
      'faultOf',
      'httpStatusOf',
      'inferenceOptionsSchema',
      'openAiErrorBody',
      'runWithRequestContext',
      'sendSse',
      'sseErrorBody',
      'toHttpException',
      'toSseEvents',
    ],
    types: [
      'CallCost',
      'CallTimeoutOptions',
      'CanaryFastFailOptions',
      'CanaryFeedbackOptions',
      'CanaryOptions',
      'CanaryPhase',
      'CanaryShadowGate',
      'CanaryShadowOptions',
      'CanaryThresholds',
      'CanaryWebhookOptions',
      'CatalogModel',
      'ChatCallOptions',
      'ChatCompletion',
      'ChatCompletionChoice',
      'ChatCompletionChunk',
      'ChatCompletionChunkChoice',
      'ChatCompletionRequest',
      'ChatCompletionResult',
      'ChatMessage',
      'Clock',
      'CompletionUsage',
      'EmbedCallOptions',
      'Embedding',
      'EmbeddingRequest',
      'EmbeddingResponse',
      'EmbeddingResult',
      'FailurePhase',
      'Fault',
      'InferenceErrorOptions',
      'InferenceMetadata',
      'InferenceModuleExtras',
      'InferenceModuleOptions',
      'InferenceRequestContext',
      'InferenceShutdownHooksOptions',
      'InflightFigures',
      'InflightSnapshot',
      'InflightState',
      'ModelPrice',
      'ModelSelection',
      'OpenAiErrorBody',
      'PoolOptions',
      'ProviderOptions',
      'RetryOptions',
      'ShadowPair',
      'ShutdownEvent',
      'ShutdownOptions',
      'ShutdownPhase',
      'ShutdownSummary',
      'SseResponseOptions',
      'SseTarget',
      'StreamCallOptions',
      'StreamOutcome',
      'StreamSummary',
      'TimeoutOptions',
      'UpstreamErrorBody',
    ],
  },
  './canary': {
    file: 'lib/canary/index.ts',
    values: [
      'CanaryRollout',
      'CanaryRouter',
      'InferenceRouter',
      'MemoryRolloutStore',
      'ROLLOUT_STORE',
      'RolloutActionError',
      'ShadowMirror',
      'bucketOf',
    ],
    types: [
      'Answer',
      'AnswerQuality',
      'CallFacts',
      'CallRecord',
      'Estimate',
      'FeedbackFigures',
      'LatencyFigures',
      'PhaseFigures',
      'QualityFigures',
      'QualitySignal',
      'RecordedCall',
      'RolloutAction',
      'RolloutEvaluation',
      'RolloutEvent',
      'RolloutEventType',
      'RolloutListener',
      'RolloutReport',
      'RolloutState',
      'RolloutStatus',
      'RolloutStore',
      'RolloutStoreProvider',
      'RouteDecision',
      'RouteRequest',
      'ShadowFigures',
      'SideFigures',
      'Verdict',
      'VerdictKind',
    ],
  },
  './testing': {
    file: 'lib/testing/index.ts',
    values: ['SimulatedProvider'],
    types: [
      'RecordedOutcome',
      'RecordedRequest',
      'SimulatedFault',
      'SimulatedFaultType',
      'SimulatedLatency',
      'SimulatedProviderOptions',
    ],
  },
  './terminus': {
    file: 'lib/health/index.ts',
    values: ['InferenceHealthIndicator'],
    types: ['ReadinessOptions'],
  },
  './redis': {
    file: 'lib/redis/index.ts',
    values: ['RedisRolloutStore'],
    types: ['RedisRolloutStoreOptions'],
  },
  './prometheus': { file: 'lib/prometheus/index.ts', values: ['InferencePrometheus'], types: [] },
};

/** What an entry point exports in all: its own names, plus the root's deprecated ones. */
function expected(entry: string): ExportedNames {
  const { values, types } = API[entry]!;
  if (entry !== '.') return { values, types };
  return {
    values: [...values, ...DEPRECATED_AT_ROOT.values].toSorted(),
    types: [...types, ...DEPRECATED_AT_ROOT.types].toSorted(),
  };
}

/** Runs a fixture in a plain Node process, so Node's resolver (not Vite's) loads dist/. */
function load(file: string): Record<string, string[] | string> {
  const out = execFileSync(process.execPath, [file, ...Object.keys(API)], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

describe('the public API', () => {
  it('is exactly the names listed, entry point by entry point, types included', () => {
    const files = Object.fromEntries(Object.entries(API).map(([entry, { file }]) => [entry, file]));
    const actual = exportedNames(files);
    for (const entry of Object.keys(API)) {
      expect({ entry, ...actual[entry] }).toEqual({ entry, ...expected(entry) });
    }
  });

  it('has its lists sorted, and deprecates nothing it still offers as new', () => {
    for (const { values, types } of [...Object.values(API), DEPRECATED_AT_ROOT]) {
      expect(values).toEqual(values.toSorted());
      expect(types).toEqual(types.toSorted());
    }
    const root = API['.']!;
    for (const name of DEPRECATED_AT_ROOT.values) expect(root.values).not.toContain(name);
    for (const name of DEPRECATED_AT_ROOT.types) expect(root.types).not.toContain(name);
  });
});

describe('the built package (dist/)', () => {
  beforeAll(() => {
    if (!existsSync(`${root}/dist/index.js`))
      throw new Error('dist/ is missing: run `npm run build` first (npm test does).');
  });

  it.each([
    ['import()', 'load-with-import.mjs'],
    ['require() from CommonJS', 'load-with-require.cjs'],
  ])('offers the same runtime names through %s', (_, name) => {
    const loaded = load(fixture(name));
    for (const entry of Object.keys(API)) {
      expect({ entry, names: loaded[entry] }).toEqual({ entry, names: expected(entry).values });
    }
  });

  it('reads its version from the manifest under require()', () => {
    expect(load(fixture('load-with-require.cjs')).version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
