import { afterEach, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import {
  InferenceRequestError,
  type ChatCallOptions,
  type StreamSummary,
} from '../../lib/index.js';
import {
  collect,
  failure,
  hello,
  startHarness,
  type Harness,
} from '../support/inference-harness.js';

describe('InferenceService over real HTTP', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('returns a parsed completion with usage and metadata', async () => {
    h = await startHarness({ chunks: 3 });
    const result = await h.service.chat(hello);
    expect(result.choices[0]!.message.content).toBe('tok0 tok1 tok2 ');
    expect(result.usage).toMatchObject({ completion_tokens: 3 });
    expect(result.inference).toMatchObject({
      provider: 'sim',
      model: 'sim-model',
      attempts: 1,
      upstreamRequestId: 'sim-1',
    });
    expect(JSON.stringify(result)).not.toContain('inference');
    // Sent as given, with the model filled in: nothing streaming-only.
    expect(h.provider.requests[0]!.body).toEqual({ ...hello, model: 'sim-model' });
  });

  it('makes a unary call even when the request carries streaming fields', async () => {
    h = await startHarness({ chunks: 2 });
    const result = await h.service.chat({
      ...hello,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(result.choices[0]!.message.content).toBe('tok0 tok1 ');
    expect(h.provider.requests[0]!.body).toEqual({ ...hello, model: 'sim-model' });
  });

  it('streams chunks as an Observable and as an async iterable', async () => {
    h = await startHarness({ chunks: 4 });
    const viaRx = await lastValueFrom(h.service.stream(hello).pipe(toArray()));
    const viaIterator = await collect(h.service.stream(hello));
    for (const chunks of [viaRx, viaIterator]) {
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
        'tok0 tok1 tok2 tok3 ',
      );
      expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
      expect(chunks.every((c) => !('usage' in c))).toBe(true);
    }
    expect(h.provider.requests[0]!.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });
});

describe('usage in streams', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('passes the usage chunk through when the caller asked for it', async () => {
    h = await startHarness({ chunks: 2, usage: { promptTokens: 11, completionTokens: 2 } });
    const chunks = await collect(
      h.service.stream({ ...hello, stream_options: { include_usage: true } }),
    );
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 11, completion_tokens: 2 },
    });
  });

  it('strips it when the caller did not ask, but still reports usage at the end', async () => {
    h = await startHarness({ chunks: 2, usage: { promptTokens: 11, completionTokens: 2 } });
    let summary: StreamSummary | undefined;
    const chunks = await collect(h.service.stream(hello, { onEnd: (s) => (summary = s) }));
    expect(chunks.some((c) => c.choices.length === 0 || 'usage' in c)).toBe(false);
    expect(summary).toMatchObject({
      outcome: 'completed',
      finishReason: 'stop',
      chunks: 3,
      usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 },
    });
  });

  it('reports the same usage streamed and unary', async () => {
    h = await startHarness({ chunks: 4 });
    let summary: StreamSummary | undefined;
    await collect(h.service.stream(hello, { onEnd: (s) => (summary = s) }));
    const unary = await h.service.chat(hello);
    expect(summary!.usage).toEqual(unary.usage);
  });
});

describe('request validation', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it.each([
    ['no messages', { messages: [] }, {}, /non-empty messages array/],
    [
      'an unknown provider',
      hello,
      { provider: 'nope' },
      /No provider is named "nope"\. Configured providers: sim/,
    ],
    [
      'a negative timeout',
      hello,
      { timeouts: { totalMs: -1 } },
      /timeouts\.totalMs must be a positive number/,
    ],
    [
      'a timeout beyond Node timers (they fire after 1 ms above 2^31 - 1)',
      hello,
      { timeouts: { firstChunkMs: 2 ** 31 } },
      /Call option timeouts\.firstChunkMs is 2147483648, above the limit/,
    ],
    ['fractional retries', hello, { maxRetries: 0.5 }, /maxRetries must be an integer/],
    [
      'a per-call connect timeout',
      hello,
      { timeouts: { connectMs: 10 } },
      /timeouts\.connectMs is not supported.*set per provider/,
    ],
  ])(
    'rejects %s with a 400-class error before sending',
    async (_what, request, callOptions, message) => {
      h = await startHarness();
      // As a JavaScript caller would pass them: the types reject some of these already.
      const options = callOptions as ChatCallOptions;
      await expect(h.service.chat(request as typeof hello, options)).rejects.toThrow(message);
      expect(() => h.service.stream(request as typeof hello, options)).toThrow(message);
      expect(h.provider.attempts).toBe(0);
    },
  );

  it('needs a model from the request or the provider', async () => {
    h = await startHarness({}, { defaultModel: undefined });
    await expect(h.service.chat(hello)).rejects.toThrow(
      /No model was named.*providers\.sim\.defaultModel/,
    );
    const result = await h.service.chat({ ...hello, model: 'named' });
    expect(result.model).toBe('named');
  });

  it("refuses an empty model name as the request's mistake, even with a default model", async () => {
    h = await startHarness();
    const error = await failure(h.service.chat({ ...hello, model: ' ' }));
    expect(error).toBeInstanceOf(InferenceRequestError);
    expect(error.message).toMatch(/names no model \(model is empty\)/);
    expect(error.message).not.toContain('defaultModel');
    expect(h.provider.requests).toHaveLength(0);
  });
});
