import OpenAI, { APIError } from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedProvider } from 'nestjs-inference/testing';
import { adapters, type AdapterName } from '../../../test/support/http-app.js';
import {
  startGateway,
  startSampleApp,
  upstreamEnv,
  type SampleApp,
} from '../support/sample-app.js';

describe.each(Object.keys(adapters) as AdapterName[])(
  'the sample as an OpenAI-compatible gateway on %s',
  (adapter) => {
    let sample: SampleApp;
    let legacy: SimulatedProvider;
    let url: string;
    let client: OpenAI;

    beforeAll(async () => {
      sample = await startSampleApp(
        adapter,
        { ROLLOUT_AUTOSTART: 'false' },
        { providers: { chunks: 3 } },
      );
      ({ legacy, url } = sample);
      client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    });
    afterAll(() => sample.close());

    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      request(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });

    async function openAiError(response: Awaited<ReturnType<typeof request>>) {
      const json = (await response.body.json()) as {
        error: { message: string; type: string; code: string | null; param: string | null };
      };
      expect(Object.keys(json)).toEqual(['error']);
      expect(typeof json.error.message).toBe('string');
      expect(json.error).toHaveProperty('param');
      return { status: response.statusCode, ...json.error };
    }

    it('answers its own refusals in OpenAI’s error shape', async () => {
      const badJson = await openAiError(await post('/v1/chat/completions', '{"messages": ['));
      expect(badJson).toMatchObject({ status: 400, type: 'invalid_request_error' });
      const route = await openAiError(await post('/v1/nowhere', '{}'));
      expect(route).toMatchObject({
        status: 404,
        type: 'invalid_request_error',
        code: 'not_found',
      });
      const media = await openAiError(
        await post('/v1/chat/completions', 'hello', { 'content-type': 'text/plain' }),
      );
      expect([400, 415]).toContain(media.status);
      expect(media.type).toBe('invalid_request_error');
    });

    it('answers a header block over Node’s limit with 431 in OpenAI’s shape', async () => {
      const response = await post('/v1/chat/completions', '{}', { 'x-big': 'x'.repeat(20_000) });
      expect(await openAiError(response)).toMatchObject({
        status: 431,
        code: 'headers_too_large',
      });
    });

    it('takes a 5 MB vision request, and refuses one over the body limit with 413', async () => {
      const image = `data:image/png;base64,${Buffer.alloc(5 * 1024 * 1024, 7).toString('base64')}`;
      const completion = await client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this picture?' },
              { type: 'image_url', image_url: { url: image } },
            ],
          },
        ],
      });
      expect(completion.choices[0]!.message.content).toBe('tok0 tok1 tok2 ');
      const huge = JSON.stringify({
        messages: [{ role: 'user', content: 'x'.repeat(26 * 1024 * 1024) }],
      });
      const refused = await openAiError(await post('/v1/chat/completions', huge));
      expect(refused).toMatchObject({ status: 413, code: 'request_too_large' });
    });

    it.each([
      [{ messages: [null] }, 'messages[0]'],
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'user' }] }, 'messages[0].content'],
      [{ messages: [{ role: 'user', content: [] }] }, 'messages[0].content'],
      [
        { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant' }] },
        'messages[1].content',
      ],
      [{ messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' }, 'temperature'],
      [{ messages: [{ role: 'user', content: 'hi' }], stream: 'true' }, 'stream'],
      [{ messages: [{ role: 'user', content: 'hi' }], model: 42 }, 'model'],
      [{ messages: [{ role: 'user', content: 'hi' }], max_tokens: 0 }, 'max_tokens'],
    ])('refuses %j naming %s, through the openai SDK', async (body, param) => {
      const error = await client.chat.completions
        .create(body as never)
        .catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).status).toBe(400);
      expect((error as APIError).param).toBe(param);
      expect((error as APIError).type).toBe('invalid_request_error');
    });

    it.each([
      { role: 'assistant', content: null, refusal: 'I cannot help with that.' },
      { role: 'assistant', audio: { id: 'audio_1' } },
      {
        role: 'assistant',
        content: [],
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'function', name: 'f', content: null },
      { role: 'developer', content: '' },
    ])('accepts %j, as OpenAI does', async (message) => {
      const completion = await client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [
          { role: 'user', content: 'hi' },
          message as never,
          { role: 'user', content: 'and?' },
        ],
      });
      expect(completion.choices[0]!.message.content).toBeTruthy();
    });

    it('accepts an assistant turn that carries tool calls instead of content', async () => {
      const completion = await client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":18}' },
        ],
      });
      expect(completion.choices[0]!.message.content).toBeTruthy();
    });

    it('says who served a call, and what it cost, only when asked', async () => {
      const ask = () =>
        client.chat.completions
          .create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] })
          .withResponse();
      const quiet = await ask();
      expect(quiet.response.headers.get('x-inference-provider')).toBeNull();
      // Nor an ETag: Express would hash every answer for one that no POST client sends back.
      expect(quiet.response.headers.get('etag')).toBeNull();
      // The same gateway with GATEWAY_RESPONSE_HEADERS=true, against the same providers.
      const telling = await startGateway(adapter, {
        ...upstreamEnv(sample.legacy, sample.next),
        ROLLOUT_AUTOSTART: 'false',
        GATEWAY_RESPONSE_HEADERS: 'true',
        READINESS_DELAY_MS: '0',
      });
      try {
        const { response } = await new OpenAI({
          baseURL: `${telling.url}/v1`,
          apiKey: 'unused',
          maxRetries: 0,
        }).chat.completions
          .create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] })
          .withResponse();
        expect(response.headers.get('x-inference-provider')).toBe('legacy');
        expect(Number(response.headers.get('x-inference-cost-usd'))).toBeGreaterThan(0);
      } finally {
        await telling.app.close();
      }
    });

    it('passes unknown fields through untouched', async () => {
      await client.chat.completions.create({
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'hi' }],
        // @ts-expect-error a provider-specific field the SDK does not know
        top_k: 5,
      });
      expect(legacy.requests.at(-1)!.body).toMatchObject({ top_k: 5 });
    });

    it('relays a required tool call to the openai SDK, unary and streamed', async () => {
      const tools = [
        {
          type: 'function' as const,
          function: {
            name: 'get_weather',
            parameters: {
              type: 'object',
              properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 } },
              required: ['city', 'days'],
            },
          },
        },
      ];
      const messages = [{ role: 'user' as const, content: 'Will it rain in Oslo?' }];
      const completion = await client.chat.completions.create({
        model: 'gpt-4.1',
        messages,
        tools,
        tool_choice: 'required',
      });
      const [choice] = completion.choices;
      expect(choice!.finish_reason).toBe('tool_calls');
      const call = choice!.message.tool_calls![0]!;
      expect(call.type).toBe('function');
      if (call.type !== 'function') return;
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual({ city: 'text', days: 1 });
      expect(legacy.requests.at(-1)!.body).toMatchObject({ tools, tool_choice: 'required' });

      const stream = await client.chat.completions.create({
        model: 'gpt-4.1',
        messages,
        tools,
        tool_choice: 'required',
        stream: true,
      });
      let name = '';
      let args = '';
      let finish: string | null = null;
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta;
        name += delta?.tool_calls?.[0]?.function?.name ?? '';
        args += delta?.tool_calls?.[0]?.function?.arguments ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect({ name, args: JSON.parse(args) as unknown, finish }).toEqual({
        name: 'get_weather',
        args: { city: 'text', days: 1 },
        finish: 'tool_calls',
      });
    });
  },
);
