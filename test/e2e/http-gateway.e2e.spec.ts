import { Controller, Post, type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InferenceExceptionFilter, InferenceModule, InferenceService } from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { adapters, startHttpApp, type AdapterName } from '../support/http-app.js';

@Controller()
class AskController {
  constructor(private readonly inference: InferenceService) {}

  @Post('ask')
  async ask() {
    // Two upstream calls, awaited in turn: both must carry the same request id.
    const first = await this.inference.chat({ messages: [{ role: 'user', content: 'one' }] });
    const second = await this.inference.chat({ messages: [{ role: 'user', content: 'two' }] });
    return {
      requestId: first.inference.requestId,
      secondRequestId: second.inference.requestId,
      upstreamRequestId: second.inference.upstreamRequestId,
    };
  }
}

describe.each(Object.keys(adapters) as AdapterName[])('HTTP gateway on %s', (adapter) => {
  let sim: SimulatedProvider;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    sim = await SimulatedProvider.start({ chunks: 2 });
    ({ app, url } = await startHttpApp(adapter, {
      imports: [
        InferenceModule.forRoot({
          providers: {
            sim: {
              baseUrl: sim.baseUrl,
              apiKey: 'sk-gateway',
              defaultModel: 'm',
              retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 5_000 },
              timeouts: { connectMs: 1_000, headersMs: 200, totalMs: 3_000 },
            },
          },
        }),
      ],
      controllers: [AskController],
      providers: [{ provide: APP_FILTER, useClass: InferenceExceptionFilter }],
    }));
  });
  afterAll(async () => {
    await app.close();
    await sim.close();
  });
  beforeEach(() => sim.reset());

  const ask = (headers: Record<string, string> = {}) =>
    request(`${url}/ask`, { method: 'POST', headers });

  it('reuses the incoming x-request-id for every upstream call of the request', async () => {
    const response = await ask({ 'x-request-id': 'req-abc-123' });
    const body = (await response.body.json()) as Record<string, string>;
    expect(body).toEqual({
      requestId: 'req-abc-123',
      secondRequestId: 'req-abc-123',
      upstreamRequestId: 'sim-2',
    });
    expect(sim.requests.map((r) => r.headers['x-request-id'])).toEqual([
      'req-abc-123',
      'req-abc-123',
    ]);
  });

  it('generates one id per request when none comes in, or when the incoming one is unusable', async () => {
    for (const headers of [
      {},
      { 'x-request-id': 'x'.repeat(500) },
      { 'x-request-id': 'a b<c>' },
    ] as Record<string, string>[]) {
      sim.reset();
      const body = (await (await ask(headers)).body.json()) as Record<string, string>;
      expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.secondRequestId).toBe(body.requestId);
      expect(sim.requests.map((r) => r.headers['x-request-id'])).toEqual([
        body.requestId,
        body.requestId,
      ]);
    }
  });

  it('keeps concurrent requests apart', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `concurrent-${i}`);
    const bodies = await Promise.all(
      ids.map(
        async (id) =>
          (await ask({ 'x-request-id': id })).body.json() as Promise<Record<string, string>>,
      ),
    );
    expect(bodies.map((b) => [b.requestId, b.secondRequestId])).toEqual(ids.map((id) => [id, id]));
  });

  it.each([
    [
      '429 with Retry-After',
      { type: 'status', status: 429, retryAfter: 30 } as const,
      429,
      'simulated',
      '30',
    ],
    ['503 on every attempt', { type: 'status', status: 503 } as const, 503, 'simulated', undefined],
    [
      '500 that must not be retried',
      { type: 'status', status: 500, shouldRetry: false } as const,
      502,
      'simulated',
      undefined,
    ],
    [
      '400 from the provider',
      { type: 'status', status: 400, message: 'messages is empty' } as const,
      400,
      'simulated',
      undefined,
    ],
    [
      'a provider that never answers',
      { type: 'stall-before-headers' } as const,
      504,
      'upstream_timeout',
      undefined,
    ],
  ])('maps %s to an OpenAI-style error', async (_what, fault, status, code, retryAfter) => {
    sim.failNext(fault, 2);
    const response = await ask({ 'x-request-id': 'err-1' });
    const body = (await response.body.json()) as { error: Record<string, unknown> };
    expect(response.statusCode).toBe(status);
    expect(response.headers['retry-after']).toBe(retryAfter);
    expect(body.error).toMatchObject({ code, request_id: 'err-1', param: null });
    // The provider's own words, or the module's without the internal provider's name.
    expect(body.error.message).not.toMatch(/"sim"/);
    expect(response.headers['x-should-retry']).toBe('false');
    expect(JSON.stringify(body)).not.toContain('sk-gateway');
  });
});
