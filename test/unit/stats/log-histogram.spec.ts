import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DrainBudgetWatch } from '../../../lib/lifecycle/drain-budget.watch.js';
import { LogHistogram } from '../../../lib/stats/log-histogram.js';
import { CapturingLogger } from '../../support/inference-harness.js';

function exactQuantile(values: number[], q: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe('LogHistogram', () => {
  it('knows quantiles within 4% of the exact value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.5, max: 600_000, noNaN: true }), {
          minLength: 1,
          maxLength: 2_000,
        }),
        fc.constantFrom(0.5, 0.9, 0.95, 0.99),
        (values, q) => {
          const histogram = new LogHistogram();
          for (const value of values) histogram.record(value);
          const exact = exactQuantile(values, q);
          const estimate = histogram.quantile(q);
          expect(estimate).toBeGreaterThanOrEqual(exact * 0.999);
          expect(estimate).toBeLessThanOrEqual(exact * 1.04 + 1e-9);
        },
      ),
    );
  });

  it('merges by adding buckets, and counts values above a threshold', () => {
    const fast = new LogHistogram();
    const slow = new LogHistogram();
    for (let index = 0; index < 990; index++) fast.record(100);
    for (let index = 0; index < 10; index++) slow.record(2_000);
    fast.merge(slow);
    expect(fast.count).toBe(1_000);
    expect(fast.countAbove(500)).toBe(10);
    expect(fast.quantile(0.99)).toBeLessThan(105);
    expect(fast.quantile(0.995)).toBeGreaterThan(1_900);
    fast.reset();
    expect(fast.count).toBe(0);
    expect(fast.quantile(0.99)).toBe(0);
  });
});

describe('DrainBudgetWatch', () => {
  it('warns once when twice the observed p99 exceeds the drain timeout', () => {
    const logger = new CapturingLogger();
    const watch = new DrainBudgetWatch(30_000, logger);
    for (let index = 0; index < 2_000; index++) watch.record(index % 100 === 0 ? 20_000 : 800);
    const warnings = logger.lines.filter((line) => line.startsWith('warn'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /p99 is about 2\d{4} ms: twice that exceeds shutdown\.drainTimeoutMs \(30000 ms\)/,
    );
  });

  it('stays quiet while the drain timeout covers twice the p99', () => {
    const logger = new CapturingLogger();
    const watch = new DrainBudgetWatch(30_000, logger);
    for (let index = 0; index < 5_000; index++) watch.record(index % 100 === 0 ? 9_000 : 800);
    expect(logger.lines).toEqual([]);
    expect(watch.p99).toBeGreaterThan(800);
  });
});
