import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
// mock-llm's own server factory (CommonJS); its CLI only listens on a fixed port.
import { createServer } from '@dwmkerr/mock-llm/dist/server.js';
import { getDefaultConfig } from '@dwmkerr/mock-llm/dist/config.js';
import {
  InferenceHttpError,
  InferenceModule,
  InferenceRateLimitError,
  InferenceService,
  InferenceStreamError,
  openAiErrorBody,
  type StreamSummary,
} from '../../lib/index.js';
import { collect } from '../support/inference-harness.js';

/** mock-llm's rules: an echo (its default), a tool call, and a 429 in OpenAI's shape. */
function config() {
  const defaults = getDefaultConfig();
  return {
    ...defaults,
    streaming: { chunkSize: 4, chunkIntervalMs: 2 },
    rules: [
      ...defaults.rules,
      {
        path: '/v1/chat/completions',
        method: 'POST',
        match: "contains(body.messages[-1].content, 'weather')",
        response: {
          status: 200,
          content: JSON.stringify({
            id: 'chatcmpl-tools',
            object: 'chat.completion',
            model: '{{jmes request body.model}}',
            choices: [
              {
                index: 0,
                message: {
                  role: 'assistant',
                  content: null,
                  tool_calls: [
                    {
                      id: 'call_1',
                      type: 'function',
                      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
                    },
                  ],
                },
                finish_reason: 'tool_calls',
              },
            ],
          }),
        },
      },
      {
        path: '/v1/chat/completions',
        method: 'POST',
        match: "contains(body.messages[-1].content, 'error-429')",
        response: {
          status: 429,
          content: JSON.stringify({
            error: {
              message: 'Rate limit reached for requests.',
              type: 'requests',
              param: null,
              code: 'rate_limit_exceeded',
            },
          }),
        },
      },
    ],
  };
}

const ask = (content: string) => ({
  model: 'gpt-4.1',
  messages: [{ role: 'user' as const, content }],
});

describe('InferenceService against @dwmkerr/mock-llm (an OpenAI-compatible server we did not write)', () => {
  let server: Server;
  let app: INestApplicationContext;
  let service: InferenceService;

  beforeAll(async () => {
    // It logs every request, and its own crash on a streamed tool call.
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    server = createServer(config() as never, '127.0.0.1', 0).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const moduleRef = await Test.createTestingModule({
      imports: [
        InferenceModule.forRoot({
          providers: {
            mock: {
              baseUrl: `http://127.0.0.1:${port}/v1`,
              apiKey: 'sk-mock',
              retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 20 },
            },
          },
          telemetry: false,
        }),
      ],
    }).compile();
    app = await moduleRef.init();
    service = app.get(InferenceService);
  });
  afterAll(async () => {
    await app?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    vi.restoreAllMocks();
  });

  it('answers a unary call: its echo, with no usage and no upstream request id', async () => {
    const result = await service.chat(ask('Recommend a book'));
    expect(result.choices[0]!.message).toEqual({ role: 'assistant', content: 'Recommend a book' });
    expect(result).toMatchObject({ object: 'chat.completion', model: 'gpt-4.1' });
    // Quirks: no usage (so no cost), no `created`, no x-request-id of its own.
    expect(result.usage).toBeUndefined();
    expect(result.inference).toMatchObject({ provider: 'mock', attempts: 1 });
    expect(result.inference.usage).toBeUndefined();
    expect(result.inference.upstreamRequestId).toBeUndefined();
  });

  it('streams: chunks of its configured size, the last one carrying finish_reason, no usage chunk', async () => {
    let summary: StreamSummary | undefined;
    const chunks = await collect(
      service.stream(ask('Recommend a book'), { onEnd: (s) => (summary = s) }),
    );
    expect(chunks.map((chunk) => chunk.choices[0]!.delta.content)).toEqual([
      'Reco',
      'mmen',
      'd a ',
      'book',
    ]);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.map((chunk) => chunk.choices[0]!.finish_reason)).toEqual([
      null,
      null,
      null,
      'stop',
    ]);
    // The module asked for usage (stream_options.include_usage); mock-llm never sends it.
    expect(chunks.every((chunk) => chunk.usage === undefined)).toBe(true);
    expect(summary).toMatchObject({ outcome: 'completed', chunks: 4, finishReason: 'stop' });
    expect(summary!.usage).toBeUndefined();
  });

  it('answers a tool call on a unary call', async () => {
    const result = await service.chat(ask('What is the weather in Paris?'));
    expect(result.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
    });
  });

  it('cannot stream a tool call: it answers 500, which the module retries, then reports', async () => {
    let summary: StreamSummary | undefined;
    const error = await collect(
      service.stream(ask('What is the weather in Paris?'), { onEnd: (s) => (summary = s) }),
    ).catch((e: unknown) => e);
    // mock-llm splits `message.content`, which is null here, and fails with its own error body.
    expect(error).toBeInstanceOf(InferenceHttpError);
    expect(error).toMatchObject({ status: 500, attempts: 2, upstream: { code: 'TypeError' } });
    expect(summary).toMatchObject({ outcome: 'failed', chunks: 0, attempts: 2 });
  });

  it('passes an error status on a unary call as a typed error with its words', async () => {
    const error = await service.chat(ask('error-429')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InferenceRateLimitError);
    expect(error).toMatchObject({
      status: 429,
      attempts: 2, // retried once (retry.maxRetries: 1): it sends no Retry-After
      upstream: {
        message: 'Rate limit reached for requests.',
        type: 'requests',
        code: 'rate_limit_exceeded',
      },
    });
    expect(openAiErrorBody(error as InferenceRateLimitError).error).toMatchObject({
      message: 'Rate limit reached for requests.',
      type: 'requests',
      code: 'rate_limit_exceeded',
    });
  });

  it('sends the same error on a stream as 200 and an error frame: a typed stream error', async () => {
    let summary: StreamSummary | undefined;
    const error = await collect(
      service.stream(ask('error-429'), { onEnd: (s) => (summary = s) }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InferenceStreamError);
    expect(error).toMatchObject({ phase: 'body', retryable: true, attempts: 2 });
    expect((error as InferenceStreamError).status).toBeUndefined(); // the status was 200
    expect((error as InferenceStreamError).message).toMatch(/Rate limit reached for requests/);
    expect(summary).toMatchObject({ outcome: 'failed', chunks: 0 });
  });
});
