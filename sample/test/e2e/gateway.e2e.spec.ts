import type { INestApplication } from '@nestjs/common';
import OpenAI, { APIError, BadRequestError, RateLimitError } from 'openai';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatedProvider } from 'nestjs-inference/testing';
import { adapters, type AdapterName } from '../../../test/support/http-app.js';
import { startSample, type SampleProcess } from '../../../test/system/support/sample-process.js';
import { startGateway, startUpstreams, upstreamEnv } from '../support/sample-app.js';

describe.each(Object.keys(adapters) as AdapterName[])(
  'sample gateway on %s, with the openai SDK',
  (adapter) => {
    let legacy: SimulatedProvider;
    let next: SimulatedProvider;
    let app: INestApplication;
    let client: OpenAI;
    let baseUrl: string;

    // These tests expect unpinned calls on legacy.
    const env = () => ({
      ...upstreamEnv(legacy, next),
      ROLLOUT_AUTOSTART: 'false',
      READINESS_DELAY_MS: '0',
    });

    beforeAll(async () => {
      ({ legacy, next } = await startUpstreams({ chunks: 5 }, { chunks: 3 }));
      let url: string;
      ({ app, url } = await startGateway(adapter, env()));
      baseUrl = url;
      client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused-by-the-gateway', maxRetries: 0 });
    });
    afterAll(async () => {
      await app.close();
      await Promise.all([legacy.close(), next.close()]);
    });
    beforeEach(() => {
      legacy.reset();
      next.reset();
    });

    it('answers a unary completion in OpenAI’s format', async () => {
      const completion = await client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'Recommend a book' }],
      });
      expect(completion.choices[0]!.message.content).toBe('tok0 tok1 tok2 tok3 tok4 ');
      expect(completion.usage?.completion_tokens).toBe(5);
      expect(legacy.attempts).toBe(1);
    });

    it('streams a completion the SDK can read to the end, usage included when asked', async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'Recommend a book' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: unknown;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        usage ??= chunk.usage ?? undefined;
      }
      expect(text).toBe('tok0 tok1 tok2 tok3 tok4 ');
      expect(usage).toMatchObject({ completion_tokens: 5 });
    });

    it('pins a call to a provider by header only when ALLOW_PROVIDER_HEADER is on, under that provider’s model name', async () => {
      const pinned = (through: OpenAI) =>
        through.chat.completions.create(
          { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] },
          { headers: { 'x-inference-provider': 'next' } },
        );
      await pinned(client);
      expect([next.attempts, legacy.attempts]).toEqual([0, 1]); // off by default: ignored
      const allowing = await startGateway(adapter, { ...env(), ALLOW_PROVIDER_HEADER: 'true' });
      try {
        const completion = await pinned(
          new OpenAI({ baseURL: `${allowing.url}/v1`, apiKey: 'unused', maxRetries: 0 }),
        );
        expect(completion.choices[0]!.message.content).toBe('tok0 tok1 tok2 ');
        expect(next.requests.map((request) => request.body?.model)).toEqual(['deepseek-v3.2']);
      } finally {
        await allowing.app.close();
      }
    });

    it('passes upstream failures on as OpenAI-style errors with the mapped status', async () => {
      // Longer than the retry cap (8 s by default): the gateway passes the wait on instead.
      legacy.failNext({ type: 'status', status: 429, retryAfter: 30 });
      const error = await client.chat.completions
        .create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitError);
      expect((error as APIError).headers?.get('retry-after')).toBe('30');
      expect((error as APIError).error).toMatchObject({
        code: 'simulated', // the provider's own code
        type: 'rate_limit_error', // and type, as it sent them
      });
    });

    it('ends a stream that fails mid-way with an error event in the filter’s body', async () => {
      legacy.failNext({ type: 'error-frame', afterChunks: 2, message: 'model overloaded' });
      const stream = await client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      let text = '';
      const error = await (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })().catch((e: unknown) => e);
      expect(text).toBe('tok0 tok1 ');
      expect(error).toBeInstanceOf(APIError);
      const body = (error as APIError).error as Record<string, unknown>;
      expect(body).toMatchObject({
        type: 'server_error',
        code: 'upstream_stream_error',
        param: null,
      });
      expect(body.message).toMatch(/model overloaded/);
      expect(JSON.stringify(body)).not.toMatch(/legacy/);
    });

    it('makes no more upstream attempts than the gateway’s own when the SDK retries too', async () => {
      legacy.failNext({ type: 'status', status: 500, message: 'The server had an error.' }, 20);
      const retrying = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'x', maxRetries: 2 });
      const error = await retrying.chat.completions
        .create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect((error as APIError).status).toBe(502);
      expect((error as APIError).headers?.get('x-should-retry')).toBe('false');
      expect(legacy.attempts).toBe(3); // the sample's providers: retry.maxRetries 2
    });

    it('gives the SDK a request_id on answers, streams and errors', async () => {
      const unary = await client.chat.completions
        .create(
          { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] },
          { headers: { 'x-request-id': 'sample-1' } },
        )
        .withResponse();
      expect(unary.request_id).toBe('sample-1');
      const streamed = await client.chat.completions
        .create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], stream: true })
        .withResponse();
      for await (const _chunk of streamed.data) {
        // read to the end
      }
      expect(streamed.request_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(legacy.requests.at(-1)!.headers['x-request-id']).toBe(streamed.request_id);
      legacy.failNext({ type: 'status', status: 400, message: 'bad' });
      const error = await client.chat.completions
        .create(
          { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] },
          { headers: { 'x-request-id': 'sample-err' } },
        )
        .catch((e: unknown) => e);
      expect((error as APIError).requestID).toBe('sample-err');
    });

    it('fails a stream before its first chunk with a real HTTP status', async () => {
      legacy.failNext({ type: 'status', status: 400, message: 'model not found' });
      const error = await client.chat.completions
        .create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }], stream: true })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadRequestError);
    });

    it('answers a body without messages with 400 and a reason', async () => {
      const error = await client.chat.completions
        .create({ model: 'gpt-4.1' } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadRequestError);
      expect(String((error as Error).message)).toMatch(/messages must be a non-empty array/);
      expect((error as BadRequestError).param).toBe('messages');
    });

    it.each([
      ['/recommendations', 'gpt-4.1-mini', { max_tokens: 300 }, (1.6 * 5) / 1e6],
      ['/chat', 'gpt-4.1', { temperature: 0.7 }, (8 * 5) / 1e6],
    ])(
      'serves %s on its route’s model, with its cost',
      async (path, model, defaults, outputUsd) => {
        const response = await fetch(`${baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'running shoes' }),
        });
        const body = (await response.json()) as {
          model: string;
          provider: string;
          costUsd: number;
        };
        expect(response.status).toBe(200);
        expect(body).toMatchObject({ provider: 'legacy', model });
        expect(legacy.requests.at(-1)!.body).toMatchObject({ model, ...defaults });
        expect(body.costUsd).toBeGreaterThan(outputUsd); // prompt tokens on top of 5 completion tokens
      },
    );

    it('serves its metrics for Prometheus on GET /metrics', async () => {
      await fetch(`${baseUrl}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'hello' }),
      });
      const response = await fetch(`${baseUrl}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(
        /^text\/plain;( charset=utf-8;)? version=0\.0\.4/,
      );
      const families = parsePrometheusTextFormat(await response.text());
      const duration = families.find(
        (family) => family.name === 'gen_ai_client_operation_duration',
      );
      expect(duration?.type).toBe('HISTOGRAM');
      const cost = families.find((family) => family.name === 'inference_client_cost_total');
      expect(cost?.metrics.map((metric) => metric.labels?.gen_ai_request_model)).toContain(
        'gpt-4.1',
      );
    });

    it('answers a route call without a prompt with 400 and a reason', async () => {
      const response = await fetch(`${baseUrl}/recommendations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBe(400);
      expect(JSON.stringify(await response.json())).toMatch(/prompt must be a non-empty string/);
    });
  },
);

describe('the built sample (what `npm start` runs)', () => {
  let sample: SampleProcess | undefined;
  afterAll(() => {
    sample?.kill('SIGKILL');
  });

  it('starts with simulated providers and no API key, and serves completions', async () => {
    sample = await startSample({});
    const client = new OpenAI({ baseURL: `${sample.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]!.message.content).toMatch(/^tok0 /);
    // The drain, Nest's shutdown hooks, then Nest re-raises the signal.
    sample.kill('SIGTERM');
    const exit = await sample.exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it.each([
    ['HTTP_ADAPTER', 'koa', /HTTP_ADAPTER must be one of express, fastify, got 'koa'/],
    ['BODY_LIMIT_BYTES', '25MB', /BODY_LIMIT_BYTES must be a positive integer number of bytes/],
  ])('refuses to start with a bad %s, naming it', async (name, value, message) => {
    const failed = await startSample({ [name]: value }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toMatch(/exited \(1\) before listening/);
    expect((failed as Error).message).toMatch(message);
  });
});
