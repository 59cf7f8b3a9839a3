import { describe, expect, it } from 'vitest';
import { judge, zScore, type JudgeCriteria } from '../../../lib/canary/judge.js';
import { judgeShadow } from '../../../lib/canary/shadow-gate.js';
import { QUALITY_SIGNALS, similarity } from '../../../lib/canary/answer-quality.js';
import { ShadowMetrics, type ShadowPairObservation } from '../../../lib/canary/shadow-metrics.js';
import { SideMetrics } from '../../../lib/canary/side-metrics.js';
import { type AnswerQuality } from '../../../lib/canary/index.js';
import { AnswerCollector, answerOf, qualityOf } from '../../../lib/canary/answer-quality.js';
import { SUCCESS } from '../../../lib/canary/call-outcome.js';
import { DEFAULT_THRESHOLDS } from '../../../lib/canary/canary-options.js';

const criteria: JudgeCriteria = {
  minSamples: 100,
  ...DEFAULT_THRESHOLDS,
  feedback: { minSamples: 100, maxRelativeDrop: 0.05, lowerIsBetter: ['returned'] },
};
const z = zScore(criteria.confidence);
const flag = (...signals: (typeof QUALITY_SIGNALS)[number][]) =>
  signals.reduce((flags, signal) => flags | (1 << QUALITY_SIGNALS.indexOf(signal)), 0);
const ok: AnswerQuality = { flags: 0, json: true, tools: false };

/** `calls` successful calls, the first `poor` of them showing `quality`. */
function side(calls: number, poor: number, quality: AnswerQuality): SideMetrics {
  const metrics = new SideMetrics();
  for (let i = 0; i < calls; i++) {
    metrics.record(SUCCESS, 1_000, 0, { outputTokens: 200, quality: i < poor ? quality : ok });
  }
  return metrics;
}

describe('answer quality', () => {
  const json = { messages: [], response_format: { type: 'json_object' } };
  const answer = (content: string | null, finish = 'stop', tools?: unknown[]) =>
    answerOf({
      id: 'x',
      object: 'chat.completion',
      created: 0,
      model: 'm',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, tool_calls: tools },
          finish_reason: finish,
        },
      ],
    });

  it('reads each signal from an answer', () => {
    expect(qualityOf(json, answer('{"a":1}')).flags).toBe(0);
    expect(qualityOf(json, answer('{"a":')).flags).toBe(flag('invalid_json'));
    expect(qualityOf(json, answer('{"a":', 'length')).flags).toBe(
      flag('truncated', 'invalid_json'),
    );
    expect(qualityOf({ messages: [] }, answer('  ')).flags).toBe(flag('empty'));
    expect(qualityOf({ messages: [] }, answer('no', 'content_filter')).flags).toBe(
      flag('filtered'),
    );
    const call = (args: string) => ({ function: { name: 'buy', arguments: args } });
    expect(qualityOf({ messages: [] }, answer(null, 'tool_calls', [call('{"id":1}')]))).toEqual({
      flags: 0,
      json: false,
      tools: true,
    });
    expect(qualityOf({ messages: [] }, answer(null, 'tool_calls', [call('{"id"')])).flags).toBe(
      flag('bad_tool_arguments'),
    );
  });

  it('puts a streamed answer back together, tool calls included', () => {
    const collector = new AnswerCollector();
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
      id: 'x',
      object: 'chat.completion.chunk' as const,
      created: 0,
      model: 'm',
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    collector.add(chunk({ content: 'Hello ' }));
    collector.add(chunk({ content: 'world' }));
    collector.add(
      chunk({ tool_calls: [{ index: 0, function: { name: 'buy', arguments: '{"i' } }] }),
    );
    collector.add(chunk({ tool_calls: [{ index: 0, function: { arguments: 'd":1}' } }] }));
    collector.add(chunk({}, 'tool_calls'));
    expect(collector.answer()).toEqual({
      text: 'Hello world',
      finishReason: 'tool_calls',
      toolCalls: [{ name: 'buy', arguments: '{"id":1}' }],
    });
  });

  it('measures similarity on word sets, non-ASCII included', () => {
    expect(similarity('Ein grüner Apfel', 'ein GRÜNER apfel!')).toBe(1);
    expect(similarity('a b c d', 'a b x y')).toBe(0.5);
    expect(similarity('', '')).toBe(1);
    expect(similarity('something', '')).toBe(0);
  });
});

describe('quality signals and feedback in the judge (relative to stable)', () => {
  it('blames a canary truncating 5% of answers where stable truncates 0.5%', () => {
    const truncated = { flags: flag('truncated'), json: false, tools: false };
    const verdict = judge(side(1_000, 50, truncated), side(1_000, 5, truncated), criteria);
    expect(verdict.kind).toBe('fail');
    expect(verdict.reasons.join()).toMatch(
      /canary truncated answers 5\.00% against stable's 0\.50%/,
    );
  });

  it('judges invalid JSON on JSON requests only, and passes equal shares', () => {
    const invalid = { flags: flag('invalid_json'), json: true, tools: false };
    expect(
      judge(side(1_000, 60, invalid), side(1_000, 5, invalid), criteria).reasons.join(),
    ).toMatch(/invalid json answers 6\.00%/);
    expect(judge(side(1_000, 20, invalid), side(1_000, 20, invalid), criteria).kind).toBe('pass');
    // Too few JSON answers on a side: not judged.
    const few = new SideMetrics();
    for (let i = 0; i < 200; i++) {
      few.record(SUCCESS, 1_000, 0, { outputTokens: 200, quality: { ...invalid, json: i < 50 } });
    }
    expect(judge(few, side(1_000, 0, invalid), criteria).kind).toBe('pass');
  });

  it('blames feedback that is worse on the canary, in either direction, with enough values', () => {
    const canary = side(300, 0, ok);
    const stable = side(300, 0, ok);
    for (let i = 0; i < 200; i++) {
      canary.addFeedback('converted', i % 10 < 3 ? 1 : 0);
      stable.addFeedback('converted', i % 10 < 6 ? 1 : 0);
      canary.addFeedback('returned', i % 10 < 4 ? 1 : 0);
      stable.addFeedback('returned', i % 10 < 1 ? 1 : 0);
    }
    const reasons = judge(canary, stable, criteria).reasons.join('\n');
    expect(reasons).toMatch(
      /feedback "converted" averages 0\.300 against stable's 0\.600 .* lower/,
    );
    expect(reasons).toMatch(
      /feedback "returned" averages 0\.400 against stable's 0\.100 .* higher/,
    );
    // The same feedback on both sides passes; fewer than minSamples values are not judged.
    const same = side(300, 0, ok);
    const other = side(300, 0, ok);
    for (let i = 0; i < 99; i++) {
      same.addFeedback('converted', 0);
      other.addFeedback('converted', 1);
    }
    expect(judge(same, other, criteria).kind).toBe('pass');
  });

  it('merges quality and feedback across replicas through the snapshot', () => {
    const a = side(100, 10, { flags: flag('empty'), json: false, tools: false });
    a.addFeedback('converted', 1);
    const b = side(50, 5, { flags: flag('empty'), json: false, tools: false });
    b.addFeedback('converted', 0);
    const merged = new SideMetrics();
    merged.merge(JSON.parse(JSON.stringify(a.snapshot())));
    merged.merge(JSON.parse(JSON.stringify(b.snapshot())));
    const figures = merged.figures();
    expect(figures.quality).toEqual({ answers: 150, json: 135, tools: 0, signals: { empty: 15 } });
    expect(figures.feedback.converted).toMatchObject({ count: 2, mean: 0.5 });
  });
});

describe('the shadow gate', () => {
  const pair = (over: Partial<ShadowPairObservation> = {}): ShadowPairObservation => ({
    streamed: false,
    servedLatencyMs: 400,
    canaryLatencyMs: 200,
    servedTotalMs: 400,
    canaryTotalMs: 200,
    servedTokens: 100,
    canaryTokens: 100,
    servedUsd: 0.01,
    canaryUsd: 0.001,
    served: ok,
    canary: ok,
    finishReasonsMatch: true,
    similarity: 0.8,
    ...over,
  });
  const gate = { minPairs: 100, maxSimilarityDrop: 0.1, minBaselinePairs: 20 };

  it('holds below minPairs, passes a good canary, and fails with each reason', () => {
    const shadow = new ShadowMetrics();
    for (let i = 0; i < 99; i++) shadow.record(pair());
    expect(judgeShadow(shadow, gate, criteria, z).kind).toBe('hold');
    shadow.record(pair());
    for (let i = 0; i < 30; i++) shadow.recordBaseline(0.8 + (i % 2) * 0.05, 0.01);
    expect(judgeShadow(shadow, gate, criteria, z)).toMatchObject({ kind: 'pass' });

    const bad = new ShadowMetrics();
    const invalid = { flags: flag('invalid_json'), json: true, tools: false };
    for (let i = 0; i < 200; i++) {
      bad.record(
        pair({
          canary: i % 5 === 0 ? invalid : ok,
          canaryLatencyMs: 1_000,
          similarity: 0.4 + (i % 3) * 0.05,
        }),
      );
    }
    for (let i = 0; i < 40; i++) bad.recordBaseline(0.8 + (i % 2) * 0.05, 0.01);
    const verdict = judgeShadow(bad, gate, criteria, z);
    expect(verdict.kind).toBe('fail');
    const reasons = verdict.reasons.join('\n');
    expect(reasons).toMatch(
      /shadow gate: canary invalid json answers 20\.0% against stable's 0\.00%/,
    );
    expect(reasons).toMatch(/shadow gate: canary answers are 0\.450 similar .* stable with itself/);
    expect(reasons).toMatch(/shadow gate: canary is 2\.50× stable's latency/);
  });

  it('merges two replicas shadow figures', () => {
    const a = new ShadowMetrics();
    const b = new ShadowMetrics();
    for (let i = 0; i < 10; i++) a.record(pair());
    for (let i = 0; i < 5; i++) b.record(pair({ similarity: 0.5 }));
    b.skip('spend');
    const merged = new ShadowMetrics();
    merged.merge(JSON.parse(JSON.stringify(a.snapshot())));
    merged.merge(JSON.parse(JSON.stringify(b.snapshot())));
    const figures = merged.figures(z);
    expect(figures.pairs).toBe(15);
    expect(figures.similarity.value).toBeCloseTo((10 * 0.8 + 5 * 0.5) / 15, 10);
    expect(figures.latencyRatio.value).toBeCloseTo(0.5, 10);
    expect(figures.skipped).toEqual({ spend: 1 });
    expect(figures.costUsd.canary).toBeCloseTo(0.015, 10);
  });
});
