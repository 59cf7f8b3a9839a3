import 'reflect-metadata';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  InferenceAbortedError,
  InferenceHttpError,
  InferenceRequestError,
  InferenceService,
  InferenceTimeoutError,
} from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { AppModule } from '../../sample/app.module.js';
import { adapters, startHttpApp, type AdapterName } from '../support/http-app.js';
import { failure, startHarness, TEST_API_KEY, type Harness } from '../support/inference-harness.js';
import { InMemoryOtel } from '../support/otel-sdk.js';
import { startRolloutApp } from '../support/rollout-app.js';

const request = { model: 'embed-small', input: ['a red bicycle', 'a blue kite', 'a red bicycle'] };

describe('embeddings through InferenceService', () => {
  let h: Harness;
  let otel: InMemoryOtel;
  beforeAll(async () => {
    otel = new InMemoryOtel().register();
    h = await startHarness(
      {},
      {
        timeouts: { idleMs: 300, totalMs: 2_000 },
        prices: { 'embed-small': { input: 0.02, output: 0 } },
      },
    );
  });
  beforeEach(() => h.provider.reset());
  afterAll(async () => {
    await h.close();
    await otel.unregister();
  });

  it('embeds a batch in OpenAI’s shape, with usage, cost and metadata', async () => {
    const result = await h.service.embed({ ...request, dimensions: 8 });
    expect(result.object).toBe('list');
    expect(result.data.map((item) => item.index)).toEqual([0, 1, 2]);
    const [a, b, c] = result.data.map((item) => item.embedding as number[]);
    expect(a).toHaveLength(8);
    expect(c).toEqual(a); // deterministic per text
    expect(b).not.toEqual(a);
    expect(h.provider.requests[0]).toMatchObject({ path: '/v1/embeddings' });
    expect(h.provider.requests[0]!.body).toMatchObject({ dimensions: 8, model: 'embed-small' });
    const usage = result.usage!;
    expect(result.inference).toMatchObject({
      provider: 'sim',
      model: 'embed-small',
      attempts: 1,
      usage: { prompt_tokens: usage.prompt_tokens, completion_tokens: 0 },
    });
    expect(result.inference.cost!.estimated).toBe(false);
    expect(result.inference.cost!.usd).toBeCloseTo((usage.prompt_tokens * 0.02) / 1_000_000, 15);
    expect(Object.keys(JSON.parse(JSON.stringify(result)) as object)).not.toContain('inference');
  });

  it('passes encoding_format through', async () => {
    const result = await h.service.embed({ ...request, encoding_format: 'base64' });
    expect(typeof result.data[0]!.embedding).toBe('string');
  });

  it.each([429, 500, 503])('retries a %s', async (status) => {
    h.provider.failNext({ type: 'status', status, retryAfterMs: 1 });
    const result = await h.service.embed(request);
    expect(result.inference.attempts).toBe(2);
    expect(h.provider.attempts).toBe(2);
  });

  it('keeps a 400 as the provider’s answer, not retried', async () => {
    h.provider.failNext({ type: 'status', status: 400, message: 'input too long' });
    const error = await failure(h.service.embed(request));
    expect(error).toBeInstanceOf(InferenceHttpError);
    expect([error.status, error.attempts]).toEqual([400, 1]);
  });

  it('times out a body that stalls, and the whole call at totalMs', async () => {
    h.provider.failNext({ type: 'stall-mid-stream' });
    const idle = await failure(h.service.embed(request));
    expect(idle).toBeInstanceOf(InferenceTimeoutError);
    expect(idle.phase).toBe('idle');
    h.provider.failNext({ type: 'stall-before-headers' });
    const started = performance.now();
    const deadline = await failure(h.service.embed(request, { timeouts: { totalMs: 200 } }));
    expect(deadline.phase).toBe('deadline');
    expect(performance.now() - started).toBeLessThan(450);
  });

  it('is cancelled by its signal, and the provider sees the abort', async () => {
    h.provider.configure({ latency: { firstByteMs: 2_000 } });
    const controller = new AbortController();
    const call = h.service.embed(request, { signal: controller.signal });
    await expect.poll(() => h.provider.requests.length).toBe(1);
    controller.abort();
    expect(await failure(call)).toBeInstanceOf(InferenceAbortedError);
    await expect.poll(() => h.provider.requests[0]!.outcome).toBe('aborted');
    expect(h.provider.requests).toHaveLength(1); // never retried
    h.provider.configure({ latency: { firstByteMs: 0 } });
  });

  it('refuses bad input as the caller’s mistake, before anything is sent', async () => {
    for (const bad of [
      { model: 'embed-small', input: '' },
      { model: 'embed-small' },
      { input: 'x' },
    ]) {
      const error = await failure(h.service.embed(bad as never));
      expect(error).toBeInstanceOf(InferenceRequestError);
    }
    expect(h.provider.requests).toHaveLength(0);
  });

  it('reports the GenAI operation `embeddings` in spans and metrics', async () => {
    otel.spans.reset();
    await h.service.embed(request);
    const [span] = otel.spans.getFinishedSpans();
    expect(span!.name).toBe('embeddings embed-small');
    expect(span!.attributes['gen_ai.operation.name']).toBe('embeddings');
    const durations = await otel.points('gen_ai.client.operation.duration');
    expect(
      durations.some((point) => point.attributes['gen_ai.operation.name'] === 'embeddings'),
    ).toBe(true);
  });
});

describe('embeddings during a rollout', () => {
  let legacy: SimulatedProvider;
  let next: SimulatedProvider;
  let app: INestApplicationContext;
  let service: InferenceService;
  beforeAll(async () => {
    [legacy, next] = await Promise.all([
      SimulatedProvider.start({ apiKey: TEST_API_KEY }),
      SimulatedProvider.start({ apiKey: TEST_API_KEY }),
    ]);
    const provider = (sim: SimulatedProvider) => ({ baseUrl: sim.baseUrl, apiKey: TEST_API_KEY });
    app = await startRolloutApp(
      { legacy: provider(legacy), next: provider(next) },
      { phases: [{ weight: 99.99, durationMs: 3_600_000 }] },
    );
    service = app.get(InferenceService);
  });
  afterEach(() => {
    legacy.reset();
    next.reset();
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([legacy.close(), next.close()]);
  });

  it('go to the stable provider, whoever the caller is', async () => {
    for (let user = 0; user < 20; user++) {
      const result = await service.embed({ model: 'e', input: 'x' }, { requestId: `u${user}` });
      expect(result.inference.provider).toBe('legacy');
    }
    expect(next.requests).toHaveLength(0);
  });

  it('follow the rollout only when asked, and a pinned provider always', async () => {
    const routed = await service.embed({ model: 'e', input: 'x' }, { routing: 'rollout' });
    expect(routed.inference).toMatchObject({ provider: 'next', side: 'canary' });
    const pinned = await service.embed({ model: 'e', input: 'x' }, { provider: 'next' });
    expect(pinned.inference.provider).toBe('next');
  });
});

describe.each(Object.keys(adapters) as AdapterName[])(
  'the sample’s POST /v1/embeddings on %s',
  (adapter) => {
    let legacy: SimulatedProvider;
    let next: SimulatedProvider;
    let app: INestApplication;
    let client: OpenAI;
    const env = ['INFERENCE_BASE_URL', 'INFERENCE_API_KEY', 'CANARY_BASE_URL', 'CANARY_API_KEY'];

    beforeAll(async () => {
      legacy = await SimulatedProvider.start({ apiKey: 'sk-legacy' });
      next = await SimulatedProvider.start({ apiKey: 'sk-next' });
      Object.assign(process.env, {
        INFERENCE_BASE_URL: legacy.baseUrl,
        INFERENCE_API_KEY: 'sk-legacy',
        CANARY_BASE_URL: next.baseUrl,
        CANARY_API_KEY: 'sk-next',
      });
      let url: string;
      ({ app, url } = await startHttpApp(adapter, { imports: [AppModule] }));
      client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    });
    afterAll(async () => {
      await app?.close();
      await Promise.all([legacy.close(), next.close()]);
      for (const name of env) delete process.env[name];
    });

    it('answers the official SDK’s embeddings.create(), on the stable provider', async () => {
      const result = await client.embeddings.create({
        model: 'embed',
        input: ['one', 'two'],
        encoding_format: 'float',
      });
      expect(result.data).toHaveLength(2);
      expect(result.data[0]!.embedding.length).toBeGreaterThan(0);
      expect(result.model).toBe('text-embedding-3-small');
      expect(legacy.requests[0]!.body).toMatchObject({ model: 'text-embedding-3-small' });
      expect(next.requests.filter((r) => r.path === '/v1/embeddings')).toHaveLength(0);
    });

    it('completes an embeddings call in flight when the app shuts down', async () => {
      legacy.configure({ latency: { firstByteMs: 300 } });
      const call = client.embeddings.create({ model: 'embed', input: 'late' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closing = app.close();
      const result = await call;
      await closing;
      expect(result.data).toHaveLength(1);
      app = undefined as never;
    });
  },
);
