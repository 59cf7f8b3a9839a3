import { describe, expect, it } from 'vitest';
import { InferenceOptionsError } from '../../../lib/index.js';
import { resolveInferenceOptions } from '../../../lib/options/resolve-options.js';

const providers = {
  legacy: { baseUrl: 'https://legacy.example/v1', apiKey: 'sk-legacy-secret' },
  next: { baseUrl: 'https://next.example/v1', apiKey: 'sk-next-secret' },
};
const withCanary = ({ __models, ...canary }: Record<string, unknown>) => ({
  providers,
  defaultProvider: 'legacy',
  models: __models,
  canary: { stable: 'legacy', canary: 'next', ...canary },
});

const badCanaries: [string, Record<string, unknown>, RegExp][] = [
  [
    'unknown canary provider',
    { canary: 'nxt' },
    /canary\.canary is the string 'nxt', which is not a configured provider\. Use one of: legacy, next/,
  ],
  ['missing stable', { stable: undefined }, /canary\.stable is missing/],
  ['same provider twice', { canary: 'legacy' }, /canary\.canary names the stable provider/],
  ['empty phases', { phases: [] }, /canary\.phases is empty/],
  [
    'weight above 100',
    { phases: [{ weight: 120, durationMs: 1_000 }] },
    /canary\.phases\[0\]\.weight must be a percentage above 0 \(0 only with shadow\) and at most 100/,
  ],
  [
    'weight finer than 0.01',
    { phases: [{ weight: 0.005, durationMs: 1_000 }] },
    /canary\.phases\[0\]\.weight .* in 0\.01 steps, got 0\.005/,
  ],
  [
    'weights going down',
    {
      phases: [
        { weight: 5, durationMs: 1_000 },
        { weight: 1, durationMs: 1_000 },
      ],
    },
    /canary\.phases\[1\]\.weight must be larger than the weight of the phase before it/,
  ],
  [
    'phase without duration',
    { phases: [{ weight: 5 }] },
    /canary\.phases\[0\]\.durationMs is missing\. Every phase below 100% needs a duration/,
  ],
  [
    'error rate as a percentage',
    { thresholds: { maxErrorRate: 2 } },
    /canary\.thresholds\.maxErrorRate must be a number between 0 and 1 \(0\.02 is 2%\), got 2/,
  ],
  [
    'confidence too low',
    { thresholds: { confidence: 0.3 } },
    /canary\.thresholds\.confidence must be a number between 0\.5 and 0\.9999/,
  ],
  ['zero minSamples', { minSamples: 0 }, /canary\.minSamples must be a positive integer/],
  [
    'latency ratio below 1',
    { thresholds: { maxLatencyRatio: 0.8 } },
    /canary\.thresholds\.maxLatencyRatio must be a number from 1 to 100/,
  ],
  [
    'override header not a header',
    { overrideHeader: 'x canary' },
    /canary\.overrideHeader must be a header name such as 'x-inference-canary', true/,
  ],
  ['unknown canary option', { minSample: 10 }, /canary\.minSample is not a known option/],
  [
    'sticky key not headers',
    { stickyKey: 'x-user-id' },
    /canary\.stickyKey must be a list of header names/,
  ],
  ['store without the methods', { store: {} }, /canary\.store must be a rollout store/],
  [
    'weight 0 without shadow',
    { phases: [{ weight: 0, durationMs: 1_000 }] },
    /canary\.phases\[0\]\.weight is 0 but the phase has no shadow share/,
  ],
  [
    'shadow phase without duration',
    { phases: [{ weight: 0, shadow: 10 }] },
    /canary\.phases\[0\]\.durationMs must be set on a shadow phase/,
  ],
  [
    'shadow above 100',
    { phases: [{ weight: 0, shadow: 150, durationMs: 1_000 }] },
    /canary\.phases\[0\]\.shadow must be a percentage from 0 to 100/,
  ],
  [
    'shadow concurrency 0',
    { shadow: { maxConcurrent: 0 } },
    /canary\.shadow\.maxConcurrent must be a positive integer/,
  ],
  [
    'shadow spend cap negative',
    { shadow: { maxUsdPerHour: -1 } },
    /canary\.shadow\.maxUsdPerHour must be an amount in US dollars/,
  ],
  [
    'shadow comparator not a function',
    { shadow: { compare: 'yes' } },
    /canary\.shadow\.compare must be a function/,
  ],
  [
    'shadow gate similarity as a percentage',
    { shadow: { gate: { maxSimilarityDrop: 10 } } },
    /canary\.shadow\.gate\.maxSimilarityDrop must be a number between 0 and 1/,
  ],
  [
    'unknown shadow option',
    { shadow: { maxConcurent: 2 } },
    /canary\.shadow\.maxConcurent is not a known option/,
  ],
  [
    'feedback names not strings',
    { feedback: { lowerIsBetter: [1] } },
    /canary\.feedback\.lowerIsBetter must be an array of feedback names/,
  ],
  [
    'feedback drop as a percentage',
    { feedback: { maxRelativeDrop: 5 } },
    /canary\.feedback\.maxRelativeDrop must be a number between 0 and 1/,
  ],
  [
    'webhook with a bad URL',
    { webhook: { url: 'not a url' } },
    /canary\.webhook\.url is not a valid URL/,
  ],
];

describe('canary options', () => {
  it.each(badCanaries)('rejects %s, naming the field', (_what, canary, message) => {
    expect(() => resolveInferenceOptions(withCanary(canary))).toThrow(InferenceOptionsError);
    expect(() => resolveInferenceOptions(withCanary(canary))).toThrow(message);
  });

  it('takes a shadow phase (weight 0) before the weighted ones, and shadow on any phase', () => {
    const canary = resolveInferenceOptions(
      withCanary({
        phases: [
          { weight: 0, shadow: 10, durationMs: 60_000 },
          { weight: 5, shadow: 2.5, durationMs: 60_000 },
        ],
        shadow: { gate: false },
      }),
    ).canary!;
    expect(canary.phases).toEqual([
      { weightBps: 0, shadowBps: 1_000, durationMs: 60_000 },
      { weightBps: 500, shadowBps: 250, durationMs: 60_000 },
      { weightBps: 10_000 },
    ]);
    expect(canary.shadow.gate).toBeUndefined();
  });

  it('fills in the contract defaults, ending with 100%', () => {
    const canary = resolveInferenceOptions(withCanary({})).canary!;
    expect(canary.phases).toEqual([
      { weightBps: 100, durationMs: 900_000 },
      { weightBps: 500, durationMs: 1_800_000 },
      { weightBps: 2_500, durationMs: 3_600_000 },
      { weightBps: 5_000, durationMs: 7_200_000 },
      { weightBps: 10_000 },
    ]);
    expect(canary).toMatchObject({
      intervalMs: 60_000,
      minSamples: 100,
      consecutiveFailures: 1,
      fastFail: { windowMs: 10_000, minCalls: 20, failureRate: 0.5 },
      warmup: { probes: 3, maxFailures: 3 },
      overrideHeader: undefined,
      syncIntervalMs: 5_000,
      staleAfterMs: 15_000,
      autoStart: false,
    });
    // Relative to stable; no absolute ceiling unless asked for.
    expect(canary.thresholds).toEqual({
      maxErrorRateIncrease: 0.003,
      maxSuccessRateDrop: 0.005,
      maxAttemptErrorRateIncrease: 0.05,
      maxLatencyRatio: 1.5,
      maxIncompatibleRate: 0.01,
      incidentFailureRate: 0.05,
      confidence: 0.99,
      maxQualityRateIncrease: 0.015,
    });
    expect(canary.shadow).toMatchObject({
      maxConcurrent: 4,
      maxUsdPerHour: 1,
      excludeTools: true,
      baselineShare: 0.2,
      gate: { minPairs: 100, maxSimilarityDrop: 0.1, minBaselinePairs: 20 },
    });
    expect(canary.feedback).toEqual({
      minSamples: 100,
      maxRelativeDrop: 0.05,
      lowerIsBetter: [],
      maxTracked: 100_000,
    });
    expect(canary.stickyKey({ 'x-user-id': 'u-42' })).toBe('u-42');
    expect(canary.stickyKey({})).toBeUndefined();
  });

  it('turns the override header on only when asked, and keeps absolute ceilings opt-in', () => {
    const on = resolveInferenceOptions(
      withCanary({ overrideHeader: true, thresholds: { maxP99Ms: 2_000, maxErrorRate: 0.05 } }),
    ).canary!;
    expect(on.overrideHeader).toBe('x-inference-canary');
    expect(on.thresholds).toMatchObject({ maxP99Ms: 2_000, maxErrorRate: 0.05 });
    const named = resolveInferenceOptions(withCanary({ overrideHeader: 'X-Force-Side' })).canary!;
    expect(named.overrideHeader).toBe('x-force-side');
  });

  it('takes 0.01% steps and adds the final 100% when the list stops short', () => {
    const canary = resolveInferenceOptions(
      withCanary({ phases: [{ weight: 0.25, durationMs: 60_000 }] }),
    ).canary!;
    expect(canary.phases).toEqual([{ weightBps: 25, durationMs: 60_000 }, { weightBps: 10_000 }]);
  });

  it('never shows a webhook header in an error', () => {
    const error = (() => {
      try {
        resolveInferenceOptions(
          withCanary({
            webhook: { url: 'ftp://x', headers: { authorization: 'Bearer hook-secret' } },
          }),
        );
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toMatch(/canary\.webhook\.url uses 'ftp:'/);
    expect(error?.message).not.toContain('hook-secret');
  });
});
