import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bucketOf, CanaryRollout } from '../../lib/canary/index.js';
import { InferenceService, type StreamSummary } from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { TEST_API_KEY } from '../support/inference-harness.js';
import { startRolloutApp } from '../support/rollout-app.js';

const request = {
  model: 'gpt-4.1',
  messages: [{ role: 'user' as const, content: 'Recommend a book' }],
};
// 1,000 uncached and 200 cached prompt tokens, 300 completion tokens, at $2 / $0.5 / $8 per million.
const EXACT_USD = (1_000 * 2 + 200 * 0.5 + 300 * 8) / 1_000_000;

describe('call cost', () => {
  let provider: SimulatedProvider;
  let app: INestApplicationContext;
  let service: InferenceService;

  beforeAll(async () => {
    provider = await SimulatedProvider.start({
      apiKey: TEST_API_KEY,
      chunks: 6,
      usage: { promptTokens: 1_200, completionTokens: 300, cachedTokens: 200 },
    });
    const prices = { 'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 } };
    app = await startRolloutApp({
      legacy: { baseUrl: provider.baseUrl, apiKey: TEST_API_KEY, prices },
      next: { baseUrl: provider.baseUrl, apiKey: TEST_API_KEY, prices },
    });
    service = app.get(InferenceService);
  });
  beforeEach(() => provider.configure({ latency: {} }));
  afterAll(async () => {
    await app.close();
    await provider.close();
  });

  it('is unit prices × reported usage, in the call’s metadata', async () => {
    const result = await service.chat(request);
    expect(result.inference.cost).toEqual({ usd: EXACT_USD, estimated: false });
  });

  it('is the same streamed as unary, reported once when the stream ends', async () => {
    const unary = await service.chat(request);
    const ends: StreamSummary[] = [];
    for await (const _chunk of service.stream(request, {
      onEnd: (summary) => ends.push(summary),
    })) {
      // read to the end
    }
    expect(ends).toHaveLength(1);
    expect(ends[0]!.cost).toEqual(unary.inference.cost);
    expect(ends[0]!.cost).toEqual({ usd: EXACT_USD, estimated: false });
  });

  it('is estimated, and marked so, for a stream cancelled before its usage arrived', async () => {
    provider.configure({ latency: { perChunkMs: 20 } });
    const ends: StreamSummary[] = [];
    let read = 0;
    for await (const _chunk of service.stream(request, {
      onEnd: (summary) => ends.push(summary),
    })) {
      if (++read === 2) break;
    }
    expect(ends).toHaveLength(1);
    expect(ends[0]!.outcome).toBe('aborted');
    // The prompt at 4 characters a token, and one token per chunk received.
    const promptTokens = Math.ceil(JSON.stringify(request.messages).length / 4);
    expect(ends[0]!.cost?.estimated).toBe(true);
    expect(ends[0]!.cost?.usd).toBeCloseTo((promptTokens * 2 + 2 * 8) / 1_000_000, 15);
  });

  it('is not counted for a call the provider refused before answering', async () => {
    provider.failNext({ type: 'status', status: 400, message: 'bad request' });
    const ends: StreamSummary[] = [];
    await expect(
      (async () => {
        // Pinned: a canary call would fall back to stable and succeed.
        const options = {
          provider: 'legacy',
          onEnd: (summary: StreamSummary) => ends.push(summary),
        };
        for await (const _chunk of service.stream(request, options)) {
          // nothing arrives
        }
      })(),
    ).rejects.toMatchObject({ status: 400 });
    expect(ends[0]!.cost).toBeUndefined();
  });

  it('adds up exactly once per call in the canary’s cost per 1,000 requests', async () => {
    const rollout = app.get(CanaryRollout);
    const salt = rollout.state.salt;
    const stickyKey = Array.from({ length: 100 }, (_, i) => `u${i}`).find(
      (key) => bucketOf(salt, key) < 5_000,
    )!;
    const before = (await rollout.figures()).canary;
    for (let call = 0; call < 3; call++) await service.chat(request, { stickyKey });
    for (let call = 0; call < 2; call++) {
      for await (const _chunk of service.stream(request, { stickyKey })) {
        // read to the end
      }
    }
    const after = (await rollout.figures()).canary;
    expect(after.calls - before.calls).toBe(5);
    expect(after.costUsd - before.costUsd).toBeCloseTo(5 * EXACT_USD, 12);
    expect(after.costPer1000Requests).toBeCloseTo((after.costUsd / after.calls) * 1000, 12);
  });
});
