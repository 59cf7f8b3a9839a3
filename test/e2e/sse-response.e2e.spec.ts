import 'reflect-metadata';
import { Controller, Post, Res, Sse, type INestApplication } from '@nestjs/common';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Observable } from 'rxjs';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InferenceConnectionError,
  sendSse,
  toSseEvents,
  type ChatCompletionChunk,
} from '../../lib/index.js';
import { adapters, startHttpApp, type AdapterName } from '../support/http-app.js';
import { ManualClock } from '../support/manual-clock.js';
import { waitFor } from '../support/wait-for.js';

const chunk = (content: string): ChatCompletionChunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});
const broken = () =>
  new InferenceConnectionError('The connection to the provider failed.', {
    provider: 'p',
    requestId: 'r-1',
    phase: 'body',
    retryable: true,
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Lets what is already running (sockets, promises) move on, without moving a test clock. */
const settle = () => sleep(20);

async function* chunks(
  contents: string[],
  options: { failAfter?: number; fail?: () => Error } = {},
): AsyncGenerator<ChatCompletionChunk> {
  for (let i = 0; i < contents.length; i++) {
    if (options.failAfter === i) throw (options.fail ?? broken)();
    yield chunk(contents[i]!);
  }
  if (options.failAfter === contents.length) throw (options.fail ?? broken)();
}

/** A model silent until `speak()`: then it sends `contents` (or fails, as `chunks` does). */
function silentModel(contents: string[], options: { failAfter?: number } = {}) {
  let speak!: () => void;
  const silence = new Promise<void>((resolve) => (speak = resolve));
  async function* model(): AsyncGenerator<ChatCompletionChunk> {
    await silence;
    yield* chunks(contents, options);
  }
  return { chunks: model(), speak };
}

/** A bare Node server whose handler relays what the test gives it with `sendSse`. */
async function serve(
  handler: (response: ServerResponse) => Promise<void>,
): Promise<{ server: Server; url: string; thrown: unknown[] }> {
  const thrown: unknown[] = [];
  const server = createServer((_request, response) => {
    handler(response).catch((error: unknown) => {
      thrown.push(error);
      response.writeHead(502).end('failed before the first chunk');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, thrown };
}

describe('sendSse', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it('writes OpenAI’s events and [DONE], the status only once the first chunk is in', async () => {
    const s = await serve((response) => sendSse(chunks(['a', 'b']), response));
    server = s.server;
    const response = await request(s.url);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/event-stream/);
    const text = await response.body.text();
    expect(text).toBe(
      `data: ${JSON.stringify(chunk('a'))}\n\ndata: ${JSON.stringify(chunk('b'))}\n\ndata: [DONE]\n\n`,
    );
  });

  it('delivers a burst of small chunks larger than the buffer, all in one turn', async () => {
    // 1,000 chunks of ~200 bytes with no wait between them: writes pass the high-water mark
    // within one turn of the event loop, and the stream must still reach [DONE].
    const contents = Array.from({ length: 1_000 }, (_, i) => `${i} `.padEnd(120, 'x'));
    const s = await serve((response) => sendSse(chunks(contents), response));
    server = s.server;
    const response = await request(s.url);
    const text = await response.body.text();
    expect(text.split('\n\n').filter(Boolean)).toHaveLength(1_001);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  }, 10_000);

  it('throws a failure before the first chunk, with nothing written', async () => {
    const s = await serve((response) => sendSse(chunks(['a'], { failAfter: 0 }), response));
    server = s.server;
    const response = await request(s.url);
    expect(response.statusCode).toBe(502);
    await response.body.text();
    expect(s.thrown[0]).toBeInstanceOf(InferenceConnectionError);
  });

  it.each([
    ['an InferenceError', broken, 'upstream_connection_error'],
    ['any other error', () => new TypeError('boom'), 'stream_failed'],
  ])('ends with an OpenAI error event and no [DONE] after %s', async (_name, fail, code) => {
    const s = await serve((response) =>
      sendSse(chunks(['a', 'b'], { failAfter: 1, fail }), response),
    );
    server = s.server;
    const text = await (await request(s.url)).body.text();
    const events = text.trim().split('\n\n');
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[1]!.slice(6))).toMatchObject({ error: { code } });
    expect(text).not.toContain('[DONE]');
    expect(text).not.toContain('boom');
  });

  it('follows a slow reader and leaves no listener behind after 1,000 waits', async () => {
    const big = 'x'.repeat(64 * 1024);
    let listeners: [number, number] | undefined;
    let before: [number, number] | undefined;
    const s = await serve(async (response) => {
      before = [response.listenerCount('drain'), response.listenerCount('close')];
      await sendSse(chunks(Array.from({ length: 1_000 }, () => big)), response);
      listeners = [response.listenerCount('drain'), response.listenerCount('close')];
    });
    server = s.server;
    const response = await request(s.url);
    let received = 0;
    for await (const part of response.body) {
      received += (part as Buffer).length;
      if (received % (4 * 1024 * 1024) < (part as Buffer).length) await sleep(1); // a slow reader
    }
    expect(received).toBeGreaterThan(1_000 * big.length);
    await expect.poll(() => listeners).toBeDefined();
    expect(listeners).toEqual(before);
  });

  it('cancels the upstream iteration when the client disconnects', async () => {
    let finished = false;
    async function* endless(): AsyncGenerator<ChatCompletionChunk> {
      try {
        for (;;) {
          yield chunk('tick ');
          await sleep(5);
        }
      } finally {
        finished = true;
      }
    }
    const s = await serve((response) => sendSse(endless(), response));
    server = s.server;
    const controller = new AbortController();
    const response = await request(s.url, { signal: controller.signal });
    for await (const _part of response.body) {
      controller.abort();
      break;
    }
    await expect.poll(() => finished).toBe(true);
  });

  it('commits the headers early and keeps the connection alive while a model is silent', async () => {
    const clock = new ManualClock();
    const model = silentModel(['late']);
    const s = await serve((response) =>
      sendSse(model.chunks, response, { commitAfterMs: 50, heartbeatMs: 60, clock }),
    );
    server = s.server;
    let committed = false;
    const responding = request(s.url).then((response) => ((committed = true), response));
    await waitFor(() => clock.pendingTimers === 1, 'the handler to wait for the first chunk');
    clock.advance(49);
    await settle();
    expect(committed).toBe(false);
    clock.advance(1);
    const response = await responding; // the headers, while the model is still silent
    clock.advance(120); // two heartbeats
    model.speak();
    const text = await response.body.text();
    expect(text).toMatch(/^(: keep-alive\n\n){2}data: /);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('after an early commit, a failure before the first chunk is an error event', async () => {
    const clock = new ManualClock();
    const model = silentModel(['a'], { failAfter: 0 });
    const s = await serve((response) =>
      sendSse(model.chunks, response, { commitAfterMs: 20, clock }),
    );
    server = s.server;
    const responding = request(s.url);
    await waitFor(() => clock.pendingTimers === 1, 'the handler to wait for the first chunk');
    clock.advance(20);
    const response = await responding; // committed before the model failed
    model.speak();
    expect(response.statusCode).toBe(200);
    const text = await response.body.text();
    expect(JSON.parse(text.trim().slice(6))).toMatchObject({
      error: { code: 'upstream_connection_error' },
    });
  });
});

@Controller()
class StreamController {
  static failAfter: number | undefined;

  @Post('relay')
  async relay(@Res() response: ServerResponse | { raw: ServerResponse; hijack(): void }) {
    await sendSse(chunks(['a', 'b'], { failAfter: StreamController.failAfter }), response);
  }

  @Sse('events')
  events() {
    return toSseEvents(
      new Observable<ChatCompletionChunk>((subscriber) => {
        void (async () => {
          try {
            for await (const c of chunks(['a', 'b'], { failAfter: StreamController.failAfter }))
              subscriber.next(c);
            subscriber.complete();
          } catch (error) {
            subscriber.error(error);
          }
        })();
      }),
    );
  }
}

describe.each(Object.keys(adapters) as AdapterName[])('SSE through Nest on %s', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    StreamController.failAfter = undefined;
  });

  it.each([
    ['sendSse from a handler', 'POST', '/relay'],
    ['toSseEvents from @Sse()', 'GET', '/events'],
  ] as const)(
    'relays with %s, and ends a later failure with an error event',
    async (_n, method, path) => {
      let url: string;
      ({ app, url } = await startHttpApp(adapter, { controllers: [StreamController] }));
      const ok = await (await request(`${url}${path}`, { method })).body.text();
      expect(ok).toContain(JSON.stringify(chunk('b')));
      expect(ok).toMatch(/data: \[DONE\]\n\n$/);
      StreamController.failAfter = 1;
      const failed = await (await request(`${url}${path}`, { method })).body.text();
      expect(failed).toContain(JSON.stringify(chunk('a')));
      expect(failed).toContain('"code":"upstream_connection_error"');
      expect(failed).not.toContain('[DONE]');
    },
  );
});
