import 'reflect-metadata';
import { Body, Controller, Post, Res, Sse, type INestApplication } from '@nestjs/common';
import { map } from 'rxjs';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  InferenceModule,
  InferenceService,
  sendSse,
  toSseEvents,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type SseTarget,
} from '../../lib/index.js';
import { adapters, startHttpApp, type AdapterName } from '../support/http-app.js';
import { TEST_API_KEY } from '../support/inference-harness.js';
import { ScriptedUpstream, startSse } from '../support/scripted-upstream.js';

const hello = { messages: [{ role: 'user' as const, content: 'Hello there' }] };

/**
 * Chunks as a provider may write them: spacing, key order, escapes and number forms that
 * `JSON.stringify` of the parsed chunk would not reproduce.
 */
const UNUSUAL = [
  '{ "choices" : [ { "delta": {"role":"assistant", "content": "Hel"}, "index": 0, "finish_reason": null } ], "model": "m-2024", "id": "w-1", "object": "chat.completion.chunk", "created": 7 }',
  '{"id":"w-1","object":"chat.completion.chunk","created":7,"model":"m-2024","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"lo \\u00e9t\\u00e9"},"finish_reason":null}]}',
  '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],  "id":"w-1", "created":7.0, "model":"m-2024","object":"chat.completion.chunk"}',
];
/** The usage-only chunk the module asks for; dropped when the caller did not ask for usage. */
const USAGE_ONLY =
  '{"id":"w-1","object":"chat.completion.chunk","created":7,"model":"m-2024","choices":[],"usage":{ "prompt_tokens":3, "completion_tokens":2, "total_tokens":5 }}';
/** Content chunks with `"usage": null`, as some providers send on every chunk once asked. */
const WITH_NULL_USAGE = [
  '{"id":"w-2", "object":"chat.completion.chunk","created":8,"model":"m","choices":[{"index":0,"delta":{"content":"one"},"finish_reason":null}], "usage": null}',
  '{"id":"w-2", "object":"chat.completion.chunk","created":8,"model":"m","choices":[{"index":0,"delta":{"content":" two"},"finish_reason":null}]}',
  '{"id":"w-2", "object":"chat.completion.chunk","created":8,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}], "usage": null}',
];

const serialised = (text: string) => JSON.stringify(JSON.parse(text));

/** Upper-cases a chunk's content, in place, as a careless `map()` would. */
function shout(chunk: ChatCompletionChunk): ChatCompletionChunk {
  const delta = chunk.choices[0]?.delta;
  if (typeof delta?.content === 'string') delta.content = delta.content.toUpperCase();
  return chunk;
}
const shouted = (text: string) => JSON.stringify(shout(JSON.parse(text) as ChatCompletionChunk));

async function* shoutEach(
  chunks: AsyncIterable<ChatCompletionChunk>,
): AsyncGenerator<ChatCompletionChunk> {
  for await (const chunk of chunks) yield shout(chunk);
}

/** The body of `sendSse` for these event data. */
const sseBody = (data: string[]) => [...data, '[DONE]'].map((d) => `data: ${d}\n\n`).join('');

/** The `data:` lines of an SSE body, without their prefix. */
const dataLines = (body: string) =>
  body
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6));

@Controller()
class WireController {
  constructor(private readonly inference: InferenceService) {}

  @Post('relay')
  async relay(@Body() body: ChatCompletionRequest, @Res() response: SseTarget) {
    await sendSse(this.inference.stream(body), response);
  }

  @Post('relay-shouted')
  async relayShouted(@Body() body: ChatCompletionRequest, @Res() response: SseTarget) {
    await sendSse(shoutEach(this.inference.stream(body)), response);
  }

  @Post('relay-tee')
  async relayTee(@Body() body: ChatCompletionRequest, @Res() response: SseTarget) {
    const [relayed, other] = this.inference.stream(body).tee();
    // The other branch's consumer changes the chunks both branches share before they are relayed.
    for await (const chunk of other) shout(chunk);
    await sendSse(relayed, response);
  }

  @Sse('events')
  events() {
    return toSseEvents(this.inference.stream(hello));
  }

  @Sse('events-copied')
  eventsCopied() {
    // A map() that changes nothing still hides where the chunks came from: they are serialised.
    return toSseEvents(this.inference.stream(hello).pipe(map((chunk) => chunk)));
  }

  @Sse('events-shouted')
  eventsShouted() {
    return toSseEvents(this.inference.stream(hello).pipe(map(shout)));
  }
}

describe.each(Object.keys(adapters) as AdapterName[])('wire text on %s', (adapter) => {
  let upstream: ScriptedUpstream;
  let app: INestApplication;
  let url: string;

  /** The upstream answers every stream with these events (`data:` lines as given), then [DONE]. */
  const upstreamSends = (events: string[]) => {
    upstream.handler = (_request, response) => {
      startSse(response);
      for (const event of events) response.write(`${event}\n\n`);
      response.end('data: [DONE]\n\n');
    };
  };
  const post = async (path: string, body: object = hello) =>
    (
      await request(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).body.text();
  const get = async (path: string) => (await request(`${url}${path}`)).body.text();

  beforeAll(async () => {
    upstream = await ScriptedUpstream.start();
    ({ app, url } = await startHttpApp(adapter, {
      imports: [
        InferenceModule.forRoot({
          providers: {
            up: {
              baseUrl: upstream.baseUrl,
              apiKey: TEST_API_KEY,
              defaultModel: 'm',
              retry: { maxRetries: 0 },
            },
          },
        }),
      ],
      controllers: [WireController],
    }));
  });
  afterEach(() => {
    upstream.seen.length = 0;
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('the test chunks differ from their serialised form', () => {
    for (const text of [...UNUSUAL, USAGE_ONLY]) expect(serialised(text)).not.toBe(text);
  });

  it('sendSse forwards the provider’s bytes of a stream it relays as it came', async () => {
    upstreamSends([...UNUSUAL, USAGE_ONLY].map((text) => `data: ${text}`));
    // The module asked for usage; the caller did not: the usage-only chunk is dropped.
    expect(await post('/relay')).toBe(sseBody(UNUSUAL));
    expect(upstream.seen[0]!.body.stream_options).toEqual({ include_usage: true });
    // The caller asked for usage: the usage chunk is forwarded as it came too.
    expect(await post('/relay', { ...hello, stream_options: { include_usage: true } })).toBe(
      sseBody([...UNUSUAL, USAGE_ONLY]),
    );
  });

  it('sendSse writes a chunk whose usage was dropped serialised, without usage', async () => {
    upstreamSends(WITH_NULL_USAGE.map((text) => `data: ${text}`));
    const withoutUsage = (text: string) => {
      const { usage: _usage, ...chunk } = JSON.parse(text) as ChatCompletionChunk;
      return JSON.stringify(chunk);
    };
    const body = await post('/relay');
    expect(body).toBe(
      sseBody([
        withoutUsage(WITH_NULL_USAGE[0]!),
        WITH_NULL_USAGE[1]!,
        withoutUsage(WITH_NULL_USAGE[2]!),
      ]),
    );
    expect(body).not.toContain('usage');
    // A caller that asked for usage gets the chunks unchanged: forwarded as they came.
    const asked = await post('/relay', { ...hello, stream_options: { include_usage: true } });
    expect(asked).toBe(sseBody(WITH_NULL_USAGE));
  });

  it('sendSse forwards chunks with a compact "usage":null without that member, byte for byte', async () => {
    // As OpenAI writes every chunk once usage is asked for: the member first, last, or between.
    const compact = [
      '{"id":"w-3","object":"chat.completion.chunk","created":9,"model":"m","choices":[{"index":0,"delta":{"content":"usage:null"},"finish_reason":null}],"usage":null}',
      '{"usage":null,"id":"w-3","object":"chat.completion.chunk","created":9,"model":"m","choices":[{"index":0,"delta":{"content":" b"},"finish_reason":null}]}',
      '{"id":"w-3","object":"chat.completion.chunk","usage":null,"created":9,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
    ];
    upstreamSends(compact.map((text) => `data: ${text}`));
    expect(await post('/relay')).toBe(
      sseBody([
        compact[0]!.replace(',"usage":null', ''),
        compact[1]!.replace('"usage":null,', ''),
        compact[2]!.replace(',"usage":null', ''),
      ]),
    );
  });

  it('sendSse writes the chunks of a stream changed in place as changed', async () => {
    upstreamSends(UNUSUAL.map((text) => `data: ${text}`));
    expect(await post('/relay-shouted')).toBe(sseBody(UNUSUAL.map(shouted)));
  });

  it('sendSse writes a tee() branch’s chunks serialised, as the other branch left them', async () => {
    upstreamSends(UNUSUAL.map((text) => `data: ${text}`));
    expect(await post('/relay-tee')).toBe(sseBody(UNUSUAL.map(shouted)));
    expect(upstream.seen).toHaveLength(1);
  });

  it('sendSse writes an event the provider split over several data lines as one line', async () => {
    const at = UNUSUAL[1]!.indexOf('"choices"'); // between two members: JSON may break there
    const [first, second] = [UNUSUAL[1]!.slice(0, at), UNUSUAL[1]!.slice(at)];
    upstreamSends([`data: ${UNUSUAL[0]}`, `data: ${first}\ndata: ${second}`]);
    expect(await post('/relay')).toBe(sseBody([UNUSUAL[0]!, serialised(`${first}\n${second}`)]));
  });

  it('toSseEvents forwards the provider’s bytes of a stream it relays as it came', async () => {
    upstreamSends(UNUSUAL.map((text) => `data: ${text}`));
    expect(dataLines(await get('/events'))).toEqual([...UNUSUAL, '[DONE]']);
  });

  it('toSseEvents writes the same bytes as before for chunks sent as serialised', async () => {
    const compact = UNUSUAL.map(serialised);
    upstreamSends(compact.map((text) => `data: ${text}`));
    const forwarded = await get('/events');
    expect(dataLines(forwarded)).toEqual([...compact, '[DONE]']);
    expect(forwarded).toBe(await get('/events-copied'));
  });

  it('toSseEvents writes the chunks of a map() that changes them in place as changed', async () => {
    upstreamSends(UNUSUAL.map((text) => `data: ${text}`));
    expect(dataLines(await get('/events-shouted'))).toEqual([...UNUSUAL.map(shouted), '[DONE]']);
  });
});
