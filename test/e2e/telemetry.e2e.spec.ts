import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InferenceService, runWithRequestContext } from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { TEST_API_KEY } from '../support/inference-harness.js';
import { startRolloutApp } from '../support/rollout-app.js';
import { InMemoryOtel } from '../support/otel-sdk.js';

const prompt = { messages: [{ role: 'user' as const, content: 'Recommend a book' }] };
const forcedCanary = <T>(fn: () => Promise<T>) =>
  runWithRequestContext({ requestId: 'r', headers: { 'x-inference-canary': 'always' } }, fn);

describe('telemetry with an in-memory OpenTelemetry SDK registered', () => {
  let otel: InMemoryOtel;
  let legacy: SimulatedProvider;
  let next: SimulatedProvider;
  let app: INestApplicationContext;
  let service: InferenceService;

  beforeAll(async () => {
    otel = new InMemoryOtel().register(); // before the module starts, as an app does
    legacy = await SimulatedProvider.start({
      apiKey: TEST_API_KEY,
      chunks: 4,
      usage: { promptTokens: 40, completionTokens: 4 },
    });
    next = await SimulatedProvider.start({
      apiKey: TEST_API_KEY,
      chunks: 4,
      usage: { promptTokens: 40, completionTokens: 4 },
    });
    const provider = (sim: SimulatedProvider, model: string) => ({
      baseUrl: sim.baseUrl,
      apiKey: TEST_API_KEY,
      defaultModel: model,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      prices: { [model]: { input: 1, output: 2 } },
    });
    app = await startRolloutApp(
      { legacy: provider(legacy, 'gpt-4.1'), next: provider(next, 'deepseek-v3.2') },
      { phases: [{ weight: 25, durationMs: 3_600_000 }], overrideHeader: true },
    );
    service = app.get(InferenceService);
  });
  beforeEach(() => otel.spans.reset());
  afterAll(async () => {
    await app.close();
    await Promise.all([legacy.close(), next.close()]);
    await otel.unregister();
  });

  it('makes one CLIENT span per call, with the GenAI attributes and a retry event', async () => {
    legacy.failNext({ type: 'status', status: 503 });
    await service.chat(prompt, { provider: 'legacy' });
    const [span] = otel.spans.getFinishedSpans();
    expect(otel.spans.getFinishedSpans()).toHaveLength(1);
    expect(span!.name).toBe('chat gpt-4.1');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'legacy',
      'gen_ai.request.model': 'gpt-4.1',
      'gen_ai.response.model': 'gpt-4.1',
      'gen_ai.usage.input_tokens': 40,
      'gen_ai.usage.output_tokens': 4,
      'gen_ai.response.finish_reasons': ['stop'],
      'server.address': '127.0.0.1',
      'server.port': legacy.port,
      'inference.streaming': false,
    });
    expect(span!.events.map((event) => [event.name, event.attributes?.['error.type']])).toEqual([
      ['retry', 'upstream_http_error'],
    ]);
    expect(span!.status.code).not.toBe(SpanStatusCode.ERROR);
    const retries = await otel.points('inference.client.retries');
    expect(retries).toContainEqual(
      expect.objectContaining({
        attributes: expect.objectContaining({
          'error.type': 'upstream_http_error',
          'gen_ai.provider.name': 'legacy',
        }),
        value: 1,
      }),
    );
  });

  it('records duration, token usage and cost per provider, model and side', async () => {
    await forcedCanary(() => service.chat(prompt));
    const duration = await otel.points('gen_ai.client.operation.duration');
    const canaryDuration = duration.find(
      (point) => point.attributes['inference.canary.side'] === 'canary',
    );
    expect(canaryDuration?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'next',
      'gen_ai.request.model': 'deepseek-v3.2',
    });
    expect((canaryDuration?.value as { count: number }).count).toBeGreaterThanOrEqual(1);
    const tokens = await otel.points('gen_ai.client.token.usage');
    const input = tokens.find(
      (point) =>
        point.attributes['gen_ai.token.type'] === 'input' &&
        point.attributes['gen_ai.provider.name'] === 'next',
    );
    expect((input?.value as { sum: number }).sum).toBeGreaterThanOrEqual(40);
    const cost = await otel.points('inference.client.cost');
    const nextCost = cost.find((point) => point.attributes['gen_ai.provider.name'] === 'next');
    expect(nextCost?.value).toBeCloseTo(
      ((40 * 1 + 4 * 2) / 1e6) * (input?.value as { count: number }).count,
      12,
    );
  });

  it('times the first chunk and the chunks after it, for streams', async () => {
    // 20 ms between content chunks: the gaps, spread over every chunk after the first (the
    // finish chunk included), stay well above the bound even when timers fire a little early.
    legacy.configure({ latency: { perChunkMs: 20 } });
    for await (const _chunk of service.stream(prompt, { provider: 'legacy' })) {
      // read to the end
    }
    legacy.configure({ latency: {} });
    const [span] = otel.spans.getFinishedSpans();
    expect(span!.attributes).toMatchObject({
      'inference.streaming': true,
      'gen_ai.usage.output_tokens': 4,
    });
    const first = await otel.points('gen_ai.client.operation.time_to_first_chunk');
    const perChunk = await otel.points('gen_ai.client.operation.time_per_output_chunk');
    expect((first[0]?.value as { count: number }).count).toBeGreaterThanOrEqual(1);
    expect((perChunk[0]?.value as { sum: number }).sum).toBeGreaterThan(0.003);
  });

  it('marks a fallback on the canary span, and counts it', async () => {
    next.failNext({ type: 'status', status: 500 }, 3);
    const result = await forcedCanary(() => service.chat(prompt));
    expect(result.inference.fallbackFrom).toBe('next');
    const spans = otel.spans.getFinishedSpans();
    expect(
      spans.map((span) => [
        span.attributes['gen_ai.provider.name'],
        span.attributes['inference.canary.side'],
      ]),
    ).toEqual([
      ['next', 'canary'],
      ['legacy', 'stable'],
    ]);
    expect(spans[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(spans[0]!.events.map((event) => event.name)).toContain('fallback');
    expect(spans[0]!.attributes['error.type']).toBe('upstream_http_error');
    const fallbacks = await otel.points('inference.client.fallbacks');
    expect(fallbacks[0]?.value).toBe(1);
  });

  it('bounds the model label by configuration, never by the request', async () => {
    await service.chat({ ...prompt, model: 'whatever-the-user-typed' }, { provider: 'legacy' });
    expect(otel.spans.getFinishedSpans()[0]!.attributes['gen_ai.request.model']).toBe(
      'whatever-the-user-typed',
    );
    const models = (await otel.points('gen_ai.client.operation.duration')).map(
      (point) => point.attributes['gen_ai.request.model'],
    );
    expect(models).toContain('other');
    expect(models).not.toContain('whatever-the-user-typed');
  });

  it('reports the rollout and what is in flight', async () => {
    expect(await otel.points('inference.canary.weight')).toEqual([
      expect.objectContaining({ value: 0.25 }),
    ]);
    expect(await otel.points('inference.canary.phase')).toEqual([
      expect.objectContaining({
        value: 1,
        attributes: { 'inference.canary.status': 'progressing' },
      }),
    ]);
    expect(await otel.points('inference.requests.in_flight')).toEqual([
      expect.objectContaining({ value: 0 }),
    ]);
  });
});
