import { describe, expect, it } from 'vitest';
import { judge, SideMetrics, wilsonLower, zScore, type JudgeCriteria } from '../../../lib/index.js';
import {
  InferenceHttpError,
  InferenceRateLimitError,
  InferenceTimeoutError,
} from '../../../lib/errors/index.js';
import { outcomeOf } from '../../../lib/canary/call-outcome.js';

const criteria: JudgeCriteria = {
  minSamples: 100,
  maxErrorRate: 0.02,
  minSuccessRate: 0.98,
  maxP99Ms: 500,
  confidence: 0.95,
};
const serverError = new InferenceHttpError('boom', {
  provider: 'x',
  requestId: 'r',
  phase: 'headers',
  retryable: true,
  status: 500,
});

function side(calls: number, errors: number, slow = 0): SideMetrics {
  const metrics = new SideMetrics();
  for (let call = 0; call < calls; call++) {
    if (call < errors) metrics.record(outcomeOf(serverError)!, 0);
    else metrics.record(0, call - errors < slow ? 900 : 120);
  }
  return metrics;
}
const figures = (metrics: SideMetrics) => metrics.figures(criteria.maxP99Ms);

describe('judge', () => {
  it('holds below minSamples, whatever the data', () => {
    const verdict = judge(figures(side(99, 99)), figures(side(1000, 0)), criteria);
    expect(verdict.kind).toBe('hold');
    expect(verdict.reasons[0]).toContain('99 of the 100');
  });

  it('passes a canary whose bad share is above the threshold but not significantly', () => {
    // 3 errors in 100 calls is 3%, but the 95% lower bound is about 1.2%: not proof of > 2%.
    expect(judge(figures(side(100, 3)), figures(side(1000, 0)), criteria).kind).toBe('pass');
  });

  it('fails a canary whose error rate is significantly above the threshold, naming it', () => {
    const verdict = judge(figures(side(1000, 60)), figures(side(1000, 0)), criteria);
    expect(verdict.kind).toBe('fail');
    expect(verdict.reasons.join()).toMatch(/canary error rate 6\.00% .* above 2\.00%/);
    expect(verdict.reasons.join()).toMatch(/success rate/);
  });

  it('fails a canary whose p99 is above maxP99Ms: more than 1% of calls slower', () => {
    const verdict = judge(figures(side(1000, 0, 40)), figures(side(1000, 0)), criteria);
    expect(verdict.kind).toBe('fail');
    expect(verdict.reasons.join()).toMatch(/p99 \d+ ms is above 500 ms/);
    expect(judge(figures(side(1000, 0, 5)), figures(side(1000, 0)), criteria).kind).toBe('pass');
  });

  it('calls it an incident when the stable side fails calls too', () => {
    const verdict = judge(figures(side(1000, 80)), figures(side(5000, 300)), criteria);
    expect(verdict.kind).toBe('incident');
    expect(verdict.reasons[0]).toMatch(/^stable error rate/);
  });

  it('still blames a slow canary when the stable side is slow by design', () => {
    expect(judge(figures(side(1000, 0, 50)), figures(side(1000, 0, 300)), criteria).kind).toBe(
      'fail',
    );
  });

  it('counts timeouts and rate limits against the success rate, not the error rate', () => {
    const details = { provider: 'x', requestId: 'r', retryable: true } as const;
    const timeout = new InferenceTimeoutError('slow', { ...details, phase: 'deadline' });
    const limited = new InferenceRateLimitError('quota', {
      ...details,
      phase: 'headers',
      status: 429,
    });
    const metrics = new SideMetrics();
    for (let call = 0; call < 1000; call++) {
      metrics.record(outcomeOf(call < 30 ? timeout : call < 60 ? limited : undefined)!, 100);
    }
    const result = figures(metrics);
    expect([result.errors, result.successes, result.failures]).toEqual([
      0,
      940,
      { upstream_timeout: 30, upstream_rate_limited: 30 },
    ]);
    expect(judge(result, figures(side(1000, 0)), criteria).reasons.join()).toMatch(
      /^canary success rate 94\.0%/,
    );
  });
});

describe('confidence bounds', () => {
  it('zScore is the normal quantile', () => {
    expect(zScore(0.5)).toBeCloseTo(0, 6);
    expect(zScore(0.95)).toBeCloseTo(1.6449, 3);
    expect(zScore(0.99)).toBeCloseTo(2.3263, 3);
    expect(zScore(0.9999)).toBeCloseTo(3.719, 2);
  });

  it('wilsonLower is below the observed share and tightens with more data', () => {
    expect(wilsonLower(0, 0, 1.645)).toBe(0);
    expect(wilsonLower(5, 100, 1.645)).toBeLessThan(0.05);
    expect(wilsonLower(50, 1000, 1.645)).toBeGreaterThan(wilsonLower(5, 100, 1.645));
    expect(wilsonLower(50, 1000, 1.645)).toBeCloseTo(0.0398, 3);
  });
});
