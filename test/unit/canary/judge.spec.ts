import { describe, expect, it } from 'vitest';
import {
  judge,
  newcombeLower,
  wilsonLower,
  wilsonUpper,
  zScore,
  type JudgeCriteria,
} from '../../../lib/canary/judge.js';
import { SideMetrics } from '../../../lib/canary/side-metrics.js';
import {
  InferenceHttpError,
  InferenceRateLimitError,
  InferenceTimeoutError,
} from '../../../lib/errors/index.js';
import { INCOMPATIBLE, outcomeOf } from '../../../lib/canary/call-outcome.js';
import { DEFAULT_THRESHOLDS } from '../../../lib/canary/canary-options.js';

const criteria: JudgeCriteria = { minSamples: 100, ...DEFAULT_THRESHOLDS };
const details = { provider: 'x', requestId: 'r' } as const;
const serverError = new InferenceHttpError('boom', {
  ...details,
  phase: 'headers',
  retryable: true,
  status: 500,
});
const invalid = new InferenceHttpError('context_length_exceeded', {
  ...details,
  phase: 'headers',
  retryable: false,
  status: 400,
});

/** `calls` calls: the first `errors` fail; unary successes take `msPerToken` × 200 tokens. */
function side(
  calls: number,
  errors: number,
  { msPerToken = 5, attempts = 1 }: { msPerToken?: number; attempts?: number } = {},
): SideMetrics {
  const metrics = new SideMetrics();
  for (let call = 0; call < calls; call++) {
    if (call < errors) {
      metrics.record(outcomeOf(serverError)!, 0, 0, { attempts: 3 });
    } else {
      // A spread of per-token latencies, the same shape on every side.
      const spread = 0.8 + ((call * 7919) % 100) / 250;
      metrics.record(0, 200 * msPerToken * spread, 0, { outputTokens: 200, attempts });
    }
  }
  return metrics;
}

describe('judge: the canary against stable, in the same phase', () => {
  it('holds below minSamples on either side, whatever the data', () => {
    const verdict = judge(side(99, 99), side(1000, 0), criteria);
    expect(verdict.kind).toBe('hold');
    expect(verdict.reasons[0]).toContain('99 of the 100');
    expect(judge(side(1000, 0), side(20, 0), criteria).reasons[0]).toMatch(
      /the stable side has 20 of the 100 calls needed to compare with/,
    );
  });

  it('passes a canary exactly as good as stable, however slow both are', () => {
    // Generations of 5 s on both sides: the absolute p99 of 500 ms would roll this canary back.
    const slowBoth = { msPerToken: 25 };
    const verdict = judge(side(2000, 10, slowBoth), side(8000, 40, slowBoth), criteria);
    expect(verdict).toEqual({
      kind: 'pass',
      reasons: ['the canary is as good as stable (2000 and 8000 calls compared)'],
    });
  });

  it('fails a canary whose error rate is above stable’s by more than the margin, with confidence', () => {
    const verdict = judge(side(2000, 60), side(8000, 40), criteria);
    expect(verdict.kind).toBe('fail');
    expect(verdict.reasons.join('; ')).toMatch(
      /^canary error rate 3\.00% against stable's 0\.50%: at least 1\.\d\d points higher at 99\.0% confidence, above the 0\.30 points allowed/,
    );
    // The same 3% on both sides is not the canary's fault.
    expect(judge(side(2000, 60), side(8000, 240), criteria).kind).toBe('pass');
  });

  it('does not blame a canary whose excess is within noise', () => {
    // 8 errors in 1,000 against 4 in 1,000: 0.4 points more, far from significant.
    expect(judge(side(1000, 8), side(1000, 4), criteria).kind).toBe('pass');
  });

  it('compares latency per output token, so longer answers are not slower', () => {
    const slower = judge(side(2000, 0, { msPerToken: 10 }), side(8000, 0), criteria);
    expect(slower.kind).toBe('fail');
    expect(slower.reasons.join()).toMatch(
      /canary duration per output token median \d+\.?\d* ms\/token is more than 1\.5× stable's \d+\.?\d* ms\/token/,
    );
    // 1.2× slower is within the allowed ratio.
    expect(judge(side(2000, 0, { msPerToken: 6 }), side(8000, 0), criteria).kind).toBe('pass');
  });

  it('compares streams on time to first chunk, at the median and p95', () => {
    const streams = (calls: number, ttfcMs: number, tailMs: number) => {
      const metrics = new SideMetrics();
      for (let call = 0; call < calls; call++) {
        const ms = call % 10 === 0 ? tailMs : ttfcMs * (0.9 + (call % 7) / 30);
        metrics.record(0, ms, 0, { streamed: true });
      }
      return metrics;
    };
    expect(judge(streams(1000, 400, 900), streams(4000, 400, 900), criteria).kind).toBe('pass');
    // Same median, a tail 3× longer: caught at p95.
    const tail = judge(streams(1000, 400, 2700), streams(4000, 400, 900), criteria);
    expect(tail.kind).toBe('fail');
    expect(tail.reasons.join()).toMatch(/canary time to first chunk p95 \d+ ms is more than 1\.5×/);
  });

  it('judges attempts, so a canary that only succeeds on retry is seen', () => {
    const retried = judge(side(2000, 0, { attempts: 2 }), side(8000, 0), criteria);
    expect(retried.kind).toBe('fail');
    expect(retried.reasons.join()).toMatch(
      /canary attempt error rate 50\.0% against stable's 0\.00%/,
    );
  });

  it('judges incompatibility (4xx the stable side served) as its own rate', () => {
    const canary = side(2000, 0);
    for (let call = 0; call < 60; call++) canary.record(INCOMPATIBLE, 0);
    const verdict = judge(canary, side(8000, 0), criteria);
    expect(verdict.kind).toBe('fail');
    expect(verdict.reasons.join()).toMatch(/canary incompatibility rate 2\.91%/);
    expect(canary.figures()).toMatchObject({ incompatible: 60, errors: 0, providerFailures: 0 });
  });

  it('counts neither client faults nor cancellations', () => {
    expect(outcomeOf(invalid)).toBeUndefined();
    const timeout = new InferenceTimeoutError('slow', {
      ...details,
      phase: 'deadline',
      retryable: true,
    });
    expect(outcomeOf(timeout)).toBeDefined();
    // A deadline the caller chose is the caller giving up, not a provider fault.
    expect(outcomeOf(timeout, { totalMs: 1_000 })).toBeUndefined();
    expect(outcomeOf(timeout, { headersMs: 1_000 })).toBeDefined();
  });

  it('calls it an incident when the stable side fails calls too', () => {
    const verdict = judge(side(1000, 150), side(4000, 600), criteria);
    expect(verdict.kind).toBe('incident');
    expect(verdict.reasons[0]).toMatch(/^stable failure rate 15\.0% .* is above 5\.00%/);
    // A failing stable side and a healthy canary: the canary is not held back.
    expect(judge(side(1000, 2), side(4000, 600), criteria).kind).toBe('pass');
  });

  it('counts timeouts and rate limits against the success rate, not the error rate', () => {
    const timeout = new InferenceTimeoutError('slow', {
      ...details,
      phase: 'deadline',
      retryable: true,
    });
    const limited = new InferenceRateLimitError('quota', {
      ...details,
      phase: 'headers',
      retryable: true,
      status: 429,
    });
    const metrics = side(1000, 0);
    for (let call = 0; call < 60; call++)
      metrics.record(outcomeOf(call % 2 ? timeout : limited)!, 0);
    const figures = metrics.figures();
    expect([figures.errors, figures.providerFailures, figures.failures]).toEqual([
      0,
      60,
      { upstream_timeout: 30, upstream_rate_limited: 30 },
    ]);
    expect(judge(metrics, side(4000, 0), criteria).reasons.join()).toMatch(
      /^canary failure rate \(1 − success rate\) 5\.66% against stable's 0\.00%/,
    );
  });

  it('keeps the absolute ceilings as opt-in options', () => {
    const withCeilings = { ...criteria, maxErrorRate: 0.01, maxP99Ms: 500 };
    // 3% errors on both sides: no worse than stable, but above the ceiling, and stable too.
    expect(judge(side(2000, 60), side(8000, 240), withCeilings).kind).toBe('incident');
    const slow = judge(side(2000, 0), side(8000, 0), withCeilings);
    expect(slow.kind).toBe('fail');
    expect(slow.reasons.join()).toMatch(/canary p99 \d+ ms is above 500 ms/);
  });
});

describe('confidence bounds', () => {
  it('zScore is the normal quantile', () => {
    expect(zScore(0.5)).toBeCloseTo(0, 6);
    expect(zScore(0.95)).toBeCloseTo(1.6449, 3);
    expect(zScore(0.99)).toBeCloseTo(2.3263, 3);
    expect(zScore(0.9999)).toBeCloseTo(3.719, 2);
  });

  it('wilson bounds surround the observed share and tighten with more data', () => {
    expect(wilsonLower(0, 0, 1.645)).toBe(0);
    expect(wilsonUpper(0, 0, 1.645)).toBe(1);
    expect(wilsonLower(5, 100, 1.645)).toBeLessThan(0.05);
    expect(wilsonUpper(5, 100, 1.645)).toBeGreaterThan(0.05);
    expect(wilsonLower(50, 1000, 1.645)).toBeGreaterThan(wilsonLower(5, 100, 1.645));
    expect(wilsonLower(50, 1000, 1.645)).toBeCloseTo(0.0398, 3);
  });

  it('newcombeLower bounds the difference of two shares from below', () => {
    // Newcombe (1998), example (a): 56/70 − 48/80 = 0.2, 95% two-sided interval 0.0524 to 0.3339.
    expect(newcombeLower(56, 70, 48, 80, 1.96)).toBeCloseTo(0.0524, 3);
    expect(newcombeLower(10, 1000, 10, 1000, 1.645)).toBeLessThan(0);
  });
});
