import { assert, integer, property, uniqueArray } from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseDecoder } from '../../../lib/client/sse.decoder.js';
import { SseChunkReader } from '../../../lib/client/sse-chunk.reader.js';
import { UpstreamFault } from '../../../lib/client/upstream-fault.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const decodeAll = (parts: Uint8Array[]) => {
  const decoder = new SseDecoder();
  return parts.flatMap((part) => decoder.push(part)).map((e) => ({ event: e.event, data: e.data }));
};

describe('SseDecoder', () => {
  it('decodes data lines, comments, CRLF, CR and multi-line data', () => {
    const text =
      ': keep-alive comment\n' +
      'data: one\n\n' +
      'data: two\r\n\r\n' +
      'data: three\r\r' +
      'event: error\ndata: first line\ndata: second line\n\n' +
      'data:no-space\n\n' +
      'data: [DONE]\n\n';
    expect(decodeAll([bytes(text)])).toEqual([
      { event: undefined, data: 'one' },
      { event: undefined, data: 'two' },
      { event: undefined, data: 'three' },
      { event: 'error', data: 'first line\nsecond line' },
      { event: undefined, data: 'no-space' },
      { event: undefined, data: '[DONE]' },
    ]);
  });

  it('holds an event split across reads until it is complete', () => {
    const decoder = new SseDecoder();
    expect(decoder.push(bytes('data: {"a":'))).toEqual([]);
    expect(decoder.push(bytes('1}\n'))).toEqual([]);
    expect(decoder.push(bytes('\n')).map((e) => e.data)).toEqual(['{"a":1}']);
  });

  it('joins a UTF-8 character split across reads', () => {
    const all = bytes('data: héllo 日本 🚀\n\n');
    const parts = Array.from(all, (b) => Uint8Array.of(b)); // one byte per read
    expect(decodeAll(parts)).toEqual([{ event: undefined, data: 'héllo 日本 🚀' }]);
  });

  it('gives the same events however the bytes are split (property)', () => {
    const stream =
      ': c\r\ndata: {"x":"é"}\r\n\r\nevent: e\ndata: a\ndata: b\n\ndata: 日本\r\rdata: [DONE]\n\n';
    const whole = decodeAll([bytes(stream)]);
    const encoded = bytes(stream);
    assert(
      property(uniqueArray(integer({ min: 1, max: encoded.length - 1 })), (cuts) => {
        const points = [0, ...cuts.toSorted((a, b) => a - b), encoded.length];
        const parts = points.slice(1).map((end, i) => encoded.subarray(points[i], end));
        expect(decodeAll(parts)).toEqual(whole);
      }),
    );
  });

  it('bounds memory: an event larger than the limit is an error, not a growing buffer', () => {
    const decoder = new SseDecoder(1_000);
    expect(() => {
      for (let i = 0; i < 100; i++) decoder.push(bytes(`data: ${'x'.repeat(100)}\n`));
    }).toThrow(/size limit/);
  });
});

async function* body(...parts: string[]) {
  for (const part of parts) yield bytes(part);
}
const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: '1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const errorFrame = (type: string) =>
  new SseChunkReader(body(`data: {"error":{"message":"x","type":"${type}"}}\n\n`));

describe('SseChunkReader', () => {
  it('reads chunks until [DONE]', async () => {
    const reader = new SseChunkReader(body(chunk('a'), chunk('b') + 'data: [DONE]\n\n'));
    expect((await reader.read())?.choices[0]?.delta.content).toBe('a');
    expect((await reader.read())?.choices[0]?.delta.content).toBe('b');
    expect(await reader.read()).toBeUndefined();
    expect(reader.done).toBe(true);
  });

  it.each([
    ['end without [DONE]', [chunk('a')], 'incomplete'],
    ['data that is not JSON', ['data: {oops\n\n'], 'protocol'],
    ['an event without choices', ['data: {"id":"x"}\n\n'], 'protocol'],
    [
      'an error frame',
      ['data: {"error":{"message":"boom","type":"invalid_request_error"}}\n\n'],
      'error-frame',
    ],
    ['an error event', ['event: error\ndata: {"message":"boom"}\n\n'], 'error-frame'],
  ])('reports %s as a %s fault', async (_what, parts, kind) => {
    const reader = new SseChunkReader(body(...parts));
    const error = await (async () => {
      try {
        while ((await reader.read()) !== undefined);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UpstreamFault);
    expect((error as UpstreamFault).kind).toBe(kind);
  });

  it('marks overload error frames retryable and request errors not', async () => {
    await expect(errorFrame('overloaded_error').read()).rejects.toMatchObject({ retryable: true });
    await expect(errorFrame('invalid_request_error').read()).rejects.toMatchObject({
      retryable: false,
    });
  });
});
