import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, CanaryRollout } from '../../lib/canary/index.js';
import {
  InferenceHttpError,
  InferenceModule,
  InferenceProtocolError,
  InferenceRequestError,
  InferenceService,
  InferenceStreamError,
  InferenceTimeoutError,
  StreamConsumedError,
  type ChatCompletionChunk,
  type ProviderOptions,
  type StreamSummary,
} from '../../lib/index.js';
import { ProviderRegistry } from '../../lib/client/provider.registry.js';
import {
  CapturingLogger,
  collect,
  failure,
  hello,
  TEST_API_KEY,
} from '../support/inference-harness.js';
import { startRolloutApp } from '../support/rollout-app.js';
import {
  chunkEvent,
  completion,
  ScriptedUpstream,
  sendJson,
  startSse,
} from '../support/scripted-upstream.js';

interface App {
  app: INestApplicationContext;
  service: InferenceService;
  registry: ProviderRegistry;
  logger: CapturingLogger;
}

async function startApp(upstream: ScriptedUpstream, provider: Partial<ProviderOptions> = {}) {
  const logger = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      InferenceModule.forRoot({
        providers: {
          up: {
            baseUrl: upstream.baseUrl,
            apiKey: TEST_API_KEY,
            defaultModel: 'm',
            ...provider,
            retry: { baseDelayMs: 1, maxDelayMs: 20, ...provider.retry },
          },
        },
      }),
    ],
  })
    .setLogger(logger)
    .compile();
  const app = await moduleRef.init();
  return {
    app,
    service: app.get(InferenceService),
    registry: app.get(ProviderRegistry),
    logger,
  } satisfies App;
}

const textOf = (chunks: ChatCompletionChunk[]) =>
  chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the call path against upstreams that behave like real ones', () => {
  let upstream: ScriptedUpstream;
  let s: App;
  beforeAll(async () => {
    upstream = await ScriptedUpstream.start();
    s = await startApp(upstream, {
      timeouts: { firstChunkMs: 300, idleMs: 300, totalMs: 5_000 },
    });
  });
  afterEach(() => {
    upstream.seen.length = 0;
  });
  afterAll(async () => {
    await s.app.close();
    await upstream.close();
  });

  it('lets a unary generation run longer than the first-chunk budget (headers come at the end)', async () => {
    upstream.handler = async (_request, response) => {
      await sleep(700); // the whole generation, then the headers
      sendJson(response, 200, completion('a long answer'));
    };
    const result = await s.service.chat(hello);
    expect(result.choices[0]!.message.content).toBe('a long answer');
    expect(result.inference.attempts).toBe(1);
    expect(result.inference.timeToHeadersMs).toBeGreaterThanOrEqual(650);
  });

  it('gives a reasoning model that sends its role, then thinks, the first-chunk budget, not the idle one', async () => {
    const role = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n`;
    upstream.handler = async (_request, response) => {
      startSse(response);
      response.write(role);
      await sleep(500); // silent: longer than idleMs (300), shorter than firstChunkMs
      response.write(chunkEvent('thought through'));
      response.end('data: [DONE]\n\n');
    };
    const chunks = await collect(s.service.stream(hello, { timeouts: { firstChunkMs: 2_000 } }));
    expect(textOf(chunks)).toBe('thought through');
    // The silence after the role chunk is still bounded: by the first-chunk budget.
    upstream.handler = (_request, response) => {
      startSse(response);
      response.write(role);
    };
    const started = performance.now();
    const error = await failure(
      collect(s.service.stream(hello, { timeouts: { firstChunkMs: 600 } })),
    );
    expect(error).toBeInstanceOf(InferenceTimeoutError);
    expect(error.phase).toBe('first-chunk');
    expect(performance.now() - started).toBeGreaterThanOrEqual(550);
  });

  it('cuts a stream whose upstream sends only comments at the first-chunk budget, once', async () => {
    upstream.handler = (_request, response) => {
      startSse(response);
      const timer = setInterval(() => response.write(': keep-alive\n\n'), 20);
      response.on('close', () => clearInterval(timer));
    };
    const started = performance.now();
    const ends: StreamSummary[] = [];
    const error = await failure(
      collect(s.service.stream(hello, { onEnd: (summary) => ends.push(summary) })),
    );
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(InferenceTimeoutError);
    expect(error.phase).toBe('first-chunk');
    // Headers came, but no chunk: the stream never opened, and says so.
    expect(ends[0]).toMatchObject({ outcome: 'failed', chunks: 0, timeToHeadersMs: undefined });
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1_500);
    // It timed out after the request was sent: not retried by default.
    expect(upstream.seen).toHaveLength(1);
  });

  it('cuts a stream that goes silent but for comments at the idle budget', async () => {
    upstream.handler = (_request, response) => {
      startSse(response);
      response.write(chunkEvent('one '));
      const timer = setInterval(() => response.write(': still here\n\n'), 20);
      response.on('close', () => clearInterval(timer));
    };
    const chunks: ChatCompletionChunk[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of s.service.stream(hello)) chunks.push(chunk);
      })(),
    );
    expect(textOf(chunks)).toBe('one ');
    expect(error).toBeInstanceOf(InferenceTimeoutError);
    expect(error.phase).toBe('idle');
  });

  it('does not retry a unary attempt that timed out after it was sent, unless asked', async () => {
    upstream.handler = () => undefined; // never answers
    const error = await failure(s.service.chat(hello, { timeouts: { headersMs: 100 } }));
    expect(error).toBeInstanceOf(InferenceTimeoutError);
    expect(error.phase).toBe('headers');
    expect(upstream.seen).toHaveLength(1);
  });

  it.each([
    ['keeps its body open', 'open'],
    ['resets the connection', 'reset'],
  ] as const)(
    'ends a stream at [DONE], completed, when the upstream then %s',
    async (_name, after) => {
      upstream.handler = (_request, response) => {
        startSse(response);
        response.write(chunkEvent('whole answer'));
        response.write('data: [DONE]\n\n');
        if (after === 'reset') setTimeout(() => response.socket?.destroy(), 20);
      };
      const ends: StreamSummary[] = [];
      const started = performance.now();
      const chunks = await collect(s.service.stream(hello, { onEnd: (e) => ends.push(e) }));
      expect(performance.now() - started).toBeLessThan(250); // not held by the open body
      expect(textOf(chunks)).toBe('whole answer');
      await sleep(60);
      expect(ends).toHaveLength(1);
      expect(ends[0]).toMatchObject({ outcome: 'completed', chunks: 1 });
      expect(ends[0]!.error).toBeUndefined();
      // The held socket is destroyed within the discard bound, not kept forever.
      await expect.poll(() => upstream.seen[0]!.abortedAt, { timeout: 3_000 }).toBeDefined();
    },
  );

  it('reads `"error": null` on chunks as no error', async () => {
    upstream.handler = (_request, response) => {
      startSse(response);
      response.write(chunkEvent('fine ', { error: null }));
      response.write(chunkEvent('indeed', { error: null }));
      response.end('data: [DONE]\n\n');
    };
    expect(textOf(await collect(s.service.stream(hello)))).toBe('fine indeed');
  });

  it('refuses a unary body past maxResponseBytes, and reuses the socket for the next call', async () => {
    const big = 'x'.repeat(20 * 1024 * 1024);
    upstream.handler = (_request, response) => {
      if (upstream.seen.length === 1) sendJson(response, 200, completion(big));
      else sendJson(response, 200, completion('small'));
    };
    const error = await failure(s.service.chat(hello));
    expect(error).toBeInstanceOf(InferenceProtocolError);
    expect(error.phase).toBe('body');
    expect(error.message).toMatch(/larger than 10485760 bytes/);
    await sleep(300); // the rest is discarded in the background
    expect(upstream.seen[0]!.socketOpen()).toBe(true);
    const next = await s.service.chat(hello);
    expect(next.choices[0]!.message.content).toBe('small');
  });

  it('quotes the start of a long error body and keeps the socket', async () => {
    upstream.handler = (_request, response) => {
      if (upstream.seen.length === 1) {
        sendJson(response, 400, {
          error: {
            message: 'context_length_exceeded',
            type: 'invalid_request_error',
            code: 'context_length_exceeded',
            param: 'messages',
            padding: 'p'.repeat(200_000),
          },
        });
      } else sendJson(response, 200, completion('after'));
    };
    const error = await failure(s.service.chat(hello));
    expect(error).toBeInstanceOf(InferenceHttpError);
    expect(error.status).toBe(400);
    await sleep(100);
    expect(upstream.seen[0]!.socketOpen()).toBe(true);
    await s.service.chat(hello);
  });

  it('keeps the provider’s rate-limit headers of a unary answer', async () => {
    upstream.handler = (_request, response) => {
      response.setHeader('x-ratelimit-remaining-requests', '59');
      response.setHeader('x-ratelimit-reset-tokens', '6ms');
      sendJson(response, 200, completion('ok'));
    };
    const result = await s.service.chat(hello);
    expect(result.inference.rateLimit).toEqual({
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-tokens': '6ms',
    });
  });

  it('keeps the provider’s error fields, redacted', async () => {
    upstream.handler = (_request, response) =>
      sendJson(response, 404, {
        error: {
          message: `The model 'gpt-x' does not exist (key ${TEST_API_KEY})`,
          type: 'invalid_request_error',
          code: 'model_not_found',
          param: 'model',
        },
      });
    const error = await failure(s.service.chat(hello));
    expect(error.upstream).toEqual({
      message: "The model 'gpt-x' does not exist (key [redacted])",
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
    });
  });

  it('keeps a stream error frame’s fields, redacted, in one sentence', async () => {
    upstream.handler = (_request, response) => {
      startSse(response);
      response.write(chunkEvent('partial '));
      response.end(
        `data: ${JSON.stringify({ error: { message: `Overloaded (key ${TEST_API_KEY}).`, type: 'server_error', code: 'overloaded', param: null } })}\n\n`,
      );
    };
    const error = await failure(collect(s.service.stream(hello)));
    expect(error).toBeInstanceOf(InferenceStreamError);
    expect(error.upstream).toEqual({
      message: 'Overloaded (key [redacted]).',
      type: 'server_error',
      code: 'overloaded',
    });
    expect(error.message).toMatch(/carried an error: Overloaded \(key \[redacted\]\)\.$/);
  });

  it('reads a loose error body: the name as code, the message as message', async () => {
    upstream.handler = (_request, response) =>
      sendJson(response, 500, { error: 'TypeError', message: 'Cannot read properties of null' });
    const error = await failure(s.service.chat(hello, { maxRetries: 0 }));
    expect(error.upstream).toEqual({
      message: 'Cannot read properties of null',
      code: 'TypeError',
    });
  });

  it.each([
    ['a header value with a line break', { headers: { 'x-trace': 'a\r\nb' } }],
    ['a header name that is not a token', { headers: { 'bad header': 'x' } }],
    ['a request id with a control character', { requestId: 'id\u0007' }],
    ['a request id with a line break', { requestId: 'id\nx-evil: 1' }],
  ])('refuses %s as the caller’s mistake, before anything is sent', async (_name, options) => {
    const client = s.registry.get('up', 'check');
    const failuresBefore = client.health.consecutiveFailures;
    const error = await failure(s.service.chat(hello, options));
    expect(error).toBeInstanceOf(InferenceRequestError);
    expect(error.phase).toBe('request');
    expect(upstream.seen).toHaveLength(0);
    expect(client.health.consecutiveFailures).toBe(failuresBefore);
    // A stream reports bad input at once, when stream() is called.
    expect(() => s.service.stream(hello, options)).toThrow(InferenceRequestError);
  });

  it('makes one upstream call per stream: a second consumer is refused, tee() shares the call', async () => {
    upstream.handler = (_request, response) => {
      startSse(response);
      for (const word of ['a ', 'b ', 'c']) response.write(chunkEvent(word));
      response.end('data: [DONE]\n\n');
    };
    const stream = s.service.stream(hello);
    expect(textOf(await collect(stream))).toBe('a b c');
    expect(() => stream[Symbol.asyncIterator]()).toThrow(StreamConsumedError);
    await expect(
      new Promise<void>((resolve, reject) =>
        stream.subscribe({ complete: () => resolve(), error: reject }),
      ),
    ).rejects.toBeInstanceOf(StreamConsumedError);
    expect(upstream.seen).toHaveLength(1);

    const [left, right] = s.service.stream(hello).tee();
    const fromObservable = new Promise<ChatCompletionChunk[]>((resolve, reject) => {
      const chunks: ChatCompletionChunk[] = [];
      right.subscribe({
        next: (c) => chunks.push(c),
        complete: () => resolve(chunks),
        error: reject,
      });
    });
    const [a, b] = await Promise.all([collect(left), fromObservable]);
    expect([textOf(a), textOf(b)]).toEqual(['a b c', 'a b c']);
    expect(upstream.seen).toHaveLength(2);
  });

  it('aborts a tee’d call only when both consumers stopped', async () => {
    upstream.handler = (_request, response) => {
      startSse(response);
      let n = 0;
      const timer = setInterval(() => response.write(chunkEvent(`${n++} `)), 10);
      response.on('close', () => clearInterval(timer));
    };
    const [left, right] = s.service.stream(hello).tee();
    const first = left[Symbol.asyncIterator]();
    const second = right[Symbol.asyncIterator]();
    await first.next();
    await second.next();
    await first.return!();
    await second.next(); // still flowing for the other consumer
    expect(upstream.seen[0]!.abortedAt).toBeUndefined();
    await second.return!();
    await expect.poll(() => upstream.seen[0]!.abortedAt).toBeDefined();
  });
});

describe('provider quirks', () => {
  let upstream: ScriptedUpstream;
  afterEach(async () => upstream.close());

  it('streams from a provider that refuses stream_options when streamUsage is off', async () => {
    upstream = await ScriptedUpstream.start();
    upstream.handler = (request, response) => {
      if ('stream_options' in request.body) {
        sendJson(response, 400, { error: { message: 'Unknown parameter: stream_options' } });
        return;
      }
      startSse(response);
      response.write(chunkEvent('hi'));
      response.end('data: [DONE]\n\n');
    };
    const prices = { m: { input: 1, output: 2 } };
    const refused = await startApp(upstream, { prices });
    const error = await failure(collect(refused.service.stream(hello)));
    expect((error as InferenceHttpError).status).toBe(400);
    await refused.app.close();

    const s = await startApp(upstream, { prices, streamUsage: false });
    const ends: StreamSummary[] = [];
    const chunks = await collect(s.service.stream(hello, { onEnd: (e) => ends.push(e) }));
    expect(textOf(chunks)).toBe('hi');
    expect(ends[0]!.usage).toBeUndefined();
    expect(ends[0]!.cost).toMatchObject({ estimated: true });
    // The caller's own stream_options still reach the provider as they were.
    upstream.handler = (request, response) => {
      startSse(response);
      response.write(
        chunkEvent('', {
          choices: [],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
        }),
      );
      response.end('data: [DONE]\n\n');
      expect(request.body.stream_options).toEqual({ include_usage: true });
    };
    const withUsage: StreamSummary[] = [];
    await collect(
      s.service.stream(
        { ...hello, stream_options: { include_usage: true } },
        { onEnd: (e) => withUsage.push(e) },
      ),
    );
    expect(withUsage[0]!.cost).toMatchObject({ estimated: false });
    await s.app.close();
  });

  it('redacts credential headers like the API key, in errors and logs', async () => {
    upstream = await ScriptedUpstream.start();
    const secret = 'azure-key-abcdef0123456789';
    upstream.handler = (request, response) =>
      sendJson(response, request.headers['api-key'] === secret ? 503 : 500, {
        error: { message: `Access denied for key ${secret}` },
      });
    const s = await startApp(upstream, {
      headers: { 'api-key': secret },
      retry: { maxRetries: 1 },
    });
    const error = await failure(s.service.chat(hello));
    expect((error as InferenceHttpError).status).toBe(503); // the header was sent
    for (const view of [
      error.message,
      JSON.stringify(error),
      inspect(error, { depth: 10 }),
      s.logger.lines.join('\n'),
    ]) {
      expect(view).not.toContain(secret);
    }
    await s.app.close();
  });
});

describe('one deadline per call, fallback included', () => {
  let stable: ScriptedUpstream;
  let canary: ScriptedUpstream;
  let app: INestApplicationContext;
  let service: InferenceService;
  let canaryKey: string;
  beforeAll(async () => {
    [stable, canary] = await Promise.all([ScriptedUpstream.start(), ScriptedUpstream.start()]);
    const provider = (upstream: ScriptedUpstream) => ({
      baseUrl: upstream.baseUrl,
      apiKey: TEST_API_KEY,
      defaultModel: 'm',
      retry: { maxRetries: 0 },
    });
    app = await startRolloutApp(
      { legacy: provider(stable), next: provider(canary) },
      { fastFail: false },
    );
    service = app.get(InferenceService);
    const salt = app.get(CanaryRollout).state.salt;
    canaryKey = Array.from({ length: 200 }, (_, i) => `user-${i}`).find(
      (key) => bucketOf(salt, key) < 5_000,
    )!;
  });
  afterEach(() => {
    stable.seen.length = 0;
    canary.seen.length = 0;
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([stable.close(), canary.close()]);
  });

  it('gives the fallback only what is left of the caller’s totalMs', async () => {
    canary.handler = async (_request, response) => {
      await sleep(250);
      sendJson(response, 500, { error: { message: 'x' } });
    };
    stable.handler = async (_request, response) => {
      await sleep(2_000);
      sendJson(response, 200, completion('late'));
    };
    const started = performance.now();
    const error = await failure(
      service.chat(hello, { stickyKey: canaryKey, timeouts: { totalMs: 600 } }),
    );
    const elapsed = performance.now() - started;
    expect(stable.seen).toHaveLength(1); // it did fall back
    expect(error).toBeInstanceOf(InferenceTimeoutError);
    expect(error.phase).toBe('deadline');
    // Not 250 ms on the canary plus a fresh 600 ms on stable.
    expect(elapsed).toBeLessThan(600 + 200);
  });

  it('skips the fallback when too little of the budget is left', async () => {
    canary.handler = () => undefined; // silent until the headers budget
    const error = await failure(
      service.chat(hello, {
        stickyKey: canaryKey,
        timeouts: { totalMs: 400, headersMs: 350 },
      }),
    );
    expect(error).toBeInstanceOf(InferenceTimeoutError);
    expect([error.provider, error.phase]).toEqual(['next', 'headers']);
    expect(stable.seen).toHaveLength(0);
  });

  it('does the same for a stream', async () => {
    canary.handler = async (_request, response) => {
      await sleep(250);
      sendJson(response, 500, { error: { message: 'x' } });
    };
    stable.handler = () => undefined; // never a first chunk
    const started = performance.now();
    const error = await failure(
      collect(service.stream(hello, { stickyKey: canaryKey, timeouts: { totalMs: 600 } })),
    );
    expect(stable.seen).toHaveLength(1);
    expect(error.phase).toBe('deadline');
    expect(performance.now() - started).toBeLessThan(600 + 200);
  });
});
