import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CanaryRollout } from '../../lib/canary/index.js';
import { InferenceService, type StreamSummary } from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { collect } from '../support/inference-harness.js';
import { startRolloutApp } from '../support/rollout-app.js';

// The simulated provider answers tools, json_schema and n as OpenAI's Chat Completions API does,
// over real HTTP, unary and streamed.

const CHUNKS = 4;

const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city.',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer', minimum: 1 },
      },
      required: ['city', 'unit', 'days'],
      additionalProperties: false,
    },
  },
};

const BOOK = {
  type: 'function',
  function: {
    name: 'book_table',
    parameters: {
      type: 'object',
      properties: {
        guests: { type: 'integer', minimum: 2 },
        at: { type: 'string', format: 'date-time' },
        vegetarian: { type: 'boolean' },
      },
      required: ['guests', 'at', 'vegetarian'],
    },
  },
};

const ASK = [{ role: 'user', content: 'Will it rain in Oslo?' }];

const ORDER_SCHEMA = {
  type: 'object',
  properties: {
    customer: { $ref: '#/$defs/Customer' },
    items: {
      type: 'array',
      minItems: 2,
      items: {
        type: 'object',
        properties: {
          sku: { type: 'string' },
          quantity: { type: 'integer', minimum: 1 },
          price: { type: 'number' },
        },
        required: ['sku', 'quantity', 'price'],
        additionalProperties: false,
      },
    },
    status: { type: 'string', enum: ['pending', 'shipped'] },
    note: { type: ['string', 'null'] },
    gift: { type: 'boolean' },
  },
  required: ['customer', 'items', 'status', 'note', 'gift'],
  additionalProperties: false,
  $defs: {
    Customer: {
      type: 'object',
      properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
      required: ['name', 'email'],
      additionalProperties: false,
    },
  },
};

interface ToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}
interface Completion {
  choices: {
    index: number;
    message: { role: string; content: string | null; tool_calls?: ToolCall[] };
    finish_reason: string;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}
interface Chunk {
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: Completion['usage'] | null;
}

describe('SimulatedProvider: tools, json_schema and n', () => {
  let provider: SimulatedProvider;

  beforeAll(async () => {
    provider = await SimulatedProvider.start({ chunks: CHUNKS });
  });
  beforeEach(() => {
    provider.reset();
    provider.configure({ answers: undefined, latency: undefined });
  });
  afterAll(() => provider.close());

  function post(body: Record<string, unknown>) {
    return request(`${provider.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-model', ...body }),
    });
  }

  async function complete(body: Record<string, unknown>): Promise<Completion> {
    const response = await post(body);
    expect(response.statusCode).toBe(200);
    return (await response.body.json()) as Completion;
  }

  /** The stream's events, parsed, and whether it ended with `[DONE]`. */
  async function stream(
    body: Record<string, unknown>,
  ): Promise<{ chunks: Chunk[]; done: boolean }> {
    const response = await post({ ...body, stream: true });
    expect(response.statusCode).toBe(200);
    const text = await response.body.text();
    const data = text
      .split('\n\n')
      .filter((event) => event.startsWith('data: '))
      .map((event) => event.slice('data: '.length));
    const done = data.at(-1) === '[DONE]';
    return { chunks: data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Chunk), done };
  }

  /** Each choice's streamed answer put back together, as OpenAI's SDKs do. */
  function reassemble(chunks: Chunk[]) {
    const choices: {
      content: string;
      finish?: string;
      calls: { id?: string; type?: string; name: string; arguments: string }[];
    }[] = [];
    for (const chunk of chunks) {
      for (const choice of chunk.choices) {
        const into = (choices[choice.index] ??= { content: '', calls: [] });
        const delta = choice.delta as {
          content?: string | null;
          tool_calls?: {
            index: number;
            id?: string;
            type?: string;
            function?: { name?: string; arguments?: string };
          }[];
        };
        if (typeof delta.content === 'string') into.content += delta.content;
        for (const call of delta.tool_calls ?? []) {
          const to = (into.calls[call.index] ??= { name: '', arguments: '' });
          if (call.id) to.id = call.id;
          if (call.type) to.type = call.type;
          to.name += call.function?.name ?? '';
          to.arguments += call.function?.arguments ?? '';
        }
        if (choice.finish_reason) into.finish = choice.finish_reason;
      }
    }
    return choices;
  }

  function expectWeatherArguments(text: string) {
    const args = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(args).sort()).toEqual(['city', 'days', 'unit']);
    expect(typeof args.city).toBe('string');
    expect(args.unit).toBe('celsius');
    expect(Number.isInteger(args.days) && (args.days as number) >= 1).toBe(true);
    return args;
  }

  it('calls the tool tool_choice names, with arguments from its parameters', async () => {
    const completion = await complete({
      messages: ASK,
      tools: [WEATHER, BOOK],
      tool_choice: { type: 'function', function: { name: 'book_table' } },
    });
    expect(completion.choices).toHaveLength(1);
    const [choice] = completion.choices;
    expect(choice!.finish_reason).toBe('tool_calls');
    expect(choice!.message.role).toBe('assistant');
    expect(choice!.message.content).toBeNull();
    expect(choice!.message.tool_calls).toHaveLength(1);
    const call = choice!.message.tool_calls![0]!;
    expect(call).toMatchObject({
      id: `call_sim_${provider.requests[0]!.seq}_0`,
      type: 'function',
      function: { name: 'book_table' },
    });
    const args = JSON.parse(call.function.arguments) as Record<string, unknown>;
    expect(Object.keys(args).sort()).toEqual(['at', 'guests', 'vegetarian']);
    expect(args.guests).toBe(2);
    expect(Number.isNaN(Date.parse(args.at as string))).toBe(false);
    expect(typeof args.vegetarian).toBe('boolean');
    // The request is recorded as it came.
    expect(provider.requests[0]!.body).toMatchObject({ tools: [WEATHER, BOOK] });
  });

  it.each([
    ['absent', undefined],
    ['auto', 'auto'],
    ['required', 'required'],
  ])('calls the first tool when tool_choice is %s', async (_, toolChoice) => {
    const completion = await complete({
      messages: ASK,
      tools: [WEATHER, BOOK],
      ...(toolChoice === undefined ? {} : { tool_choice: toolChoice }),
    });
    const [choice] = completion.choices;
    expect(choice!.finish_reason).toBe('tool_calls');
    const call = choice!.message.tool_calls![0]!;
    expect(call.function.name).toBe('get_weather');
    expectWeatherArguments(call.function.arguments);
  });

  it('streams a tool call in OpenAI’s delta format, which reassembles to the unary arguments', async () => {
    const body = { messages: ASK, tools: [WEATHER], tool_choice: 'required' };
    const unary = (await complete(body)).choices[0]!.message.tool_calls![0]!;
    const { chunks, done } = await stream({ ...body, stream_options: { include_usage: true } });
    expect(done).toBe(true);
    const seq = provider.requests.at(-1)!.seq;
    expect(chunks[0]!.choices[0]!.delta).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          index: 0,
          id: `call_sim_${seq}_0`,
          type: 'function',
          function: { name: 'get_weather', arguments: '' },
        },
      ],
    });
    const pieces = chunks
      .slice(1)
      .filter((chunk) => chunk.choices.length > 0 && chunk.choices[0]!.finish_reason === null);
    expect(pieces).toHaveLength(CHUNKS); // the arguments come in `chunks` pieces, as text does
    for (const chunk of pieces) {
      expect(Object.keys(chunk.choices[0]!.delta)).toEqual(['tool_calls']);
      expect(Object.keys((chunk.choices[0]!.delta.tool_calls as object[])[0]!)).toEqual([
        'index',
        'function',
      ]);
    }
    const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
    expect(finish!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'tool_calls' });
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(CHUNKS);

    const [streamed] = reassemble(chunks);
    expect(streamed!.content).toBe('');
    expect(streamed!.finish).toBe('tool_calls');
    expect(streamed!.calls).toHaveLength(1);
    expect(streamed!.calls[0]).toMatchObject({ type: 'function', name: 'get_weather' });
    expect(JSON.parse(streamed!.calls[0]!.arguments)).toEqual(JSON.parse(unary.function.arguments));
    expectWeatherArguments(streamed!.calls[0]!.arguments);
  });

  it('answers in text after a tool result, and when tool_choice is none', async () => {
    const afterTool = await complete({
      messages: [
        ...ASK,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"rain":true}' },
      ],
      tools: [WEATHER],
      tool_choice: 'auto',
    });
    expect(afterTool.choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { role: 'assistant', content: 'tok0 tok1 tok2 tok3 ' },
    });
    expect(afterTool.choices[0]!.message.tool_calls).toBeUndefined();

    const none = await complete({ messages: ASK, tools: [WEATHER], tool_choice: 'none' });
    expect(none.choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { content: 'tok0 tok1 tok2 tok3 ' },
    });
    const { chunks } = await stream({ messages: ASK, tools: [WEATHER], tool_choice: 'none' });
    expect(reassemble(chunks)[0]).toMatchObject({ content: 'tok0 tok1 tok2 tok3 ', calls: [] });
  });

  it('refuses a tool_choice naming a function it was not offered, as OpenAI does', async () => {
    const response = await post({
      messages: ASK,
      tools: [WEATHER],
      tool_choice: { type: 'function', function: { name: 'launch' } },
    });
    expect(response.statusCode).toBe(400);
    const { error } = (await response.body.json()) as { error: { param: string; type: string } };
    expect(error).toMatchObject({ param: 'tool_choice', type: 'invalid_request_error' });
  });

  function expectOrder(text: string) {
    const order = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(order).sort()).toEqual(['customer', 'gift', 'items', 'note', 'status']);
    const customer = order.customer as Record<string, unknown>;
    expect(Object.keys(customer).sort()).toEqual(['email', 'name']);
    expect(customer.email).toMatch(/^[^@\s]+@[^@\s]+$/);
    expect(typeof customer.name).toBe('string');
    const items = order.items as Record<string, unknown>[];
    expect(items).toHaveLength(2);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(['price', 'quantity', 'sku']);
      expect(typeof item.sku).toBe('string');
      expect(Number.isInteger(item.quantity)).toBe(true);
      expect(typeof item.price).toBe('number');
    }
    expect(order.status).toBe('pending');
    expect(typeof order.note).toBe('string');
    expect(typeof order.gift).toBe('boolean');
  }

  it('answers json_schema with a document of the schema, unary and streamed', async () => {
    const body = {
      messages: ASK,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'order', strict: true, schema: ORDER_SCHEMA },
      },
    };
    const unary = await complete(body);
    expect(unary.choices[0]!.finish_reason).toBe('stop');
    expectOrder(unary.choices[0]!.message.content!);
    const { chunks } = await stream(body);
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.content).length).toBe(CHUNKS);
    expect(reassemble(chunks)[0]!.content).toBe(unary.choices[0]!.message.content);
    // json_object keeps its shape.
    const object = await complete({ messages: ASK, response_format: { type: 'json_object' } });
    expect(JSON.parse(object.choices[0]!.message.content!)).toEqual({
      answer: 'tok0 tok1 tok2 tok3 ',
    });
  });

  it('still gives poor answers when told: invalid JSON for json_schema and tool arguments', async () => {
    provider.configure({ answers: { invalidJson: 1 } });
    const document = await complete({
      messages: ASK,
      response_format: { type: 'json_schema', json_schema: { name: 'o', schema: ORDER_SCHEMA } },
    });
    expect(() => JSON.parse(document.choices[0]!.message.content!) as unknown).toThrow();
    const call = await complete({ messages: ASK, tools: [WEATHER] });
    expect(call.choices[0]!.finish_reason).toBe('tool_calls');
    expect(
      () => JSON.parse(call.choices[0]!.message.tool_calls![0]!.function.arguments) as unknown,
    ).toThrow();
    provider.configure({ answers: { truncated: 1 } });
    const cut = await complete({ messages: ASK, tools: [WEATHER] });
    expect(cut.choices[0]!.finish_reason).toBe('length');
    provider.configure({ answers: { empty: 1 } });
    const empty = await complete({ messages: ASK, tools: [WEATHER] });
    expect(empty.choices[0]!.message).toEqual({ role: 'assistant', content: '' });
  });

  it('answers n: 3 with three choices, unary and streamed, and counts all of them', async () => {
    const unary = await complete({ messages: ASK, n: 3 });
    expect(unary.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    for (const choice of unary.choices) {
      expect(choice).toMatchObject({
        finish_reason: 'stop',
        message: { content: 'tok0 tok1 tok2 tok3 ' },
      });
    }
    expect(unary.usage.completion_tokens).toBe(3 * CHUNKS);
    expect(unary.usage.total_tokens).toBe(unary.usage.prompt_tokens + 3 * CHUNKS);

    const { chunks, done } = await stream({
      messages: ASK,
      n: 3,
      stream_options: { include_usage: true },
    });
    expect(done).toBe(true);
    expect(new Set(chunks.flatMap((chunk) => chunk.choices.map((c) => c.index)))).toEqual(
      new Set([0, 1, 2]),
    );
    const choices = reassemble(chunks);
    expect(choices).toHaveLength(3);
    for (const choice of choices) {
      expect(choice).toMatchObject({ content: 'tok0 tok1 tok2 tok3 ', finish: 'stop' });
    }
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(3 * CHUNKS);

    // Each choice calls the tool, with its own id.
    const calls = await complete({ messages: ASK, tools: [WEATHER], n: 3 });
    expect(calls.choices).toHaveLength(3);
    const ids = calls.choices.map((choice) => choice.message.tool_calls![0]!.id);
    expect(new Set(ids).size).toBe(3);
    const streamedCalls = reassemble(
      (await stream({ messages: ASK, tools: [WEATHER], n: 3 })).chunks,
    );
    expect(streamedCalls).toHaveLength(3);
    for (const choice of streamedCalls) expectWeatherArguments(choice.calls[0]!.arguments);

    const bad = await post({ messages: ASK, n: 0 });
    expect(bad.statusCode).toBe(400);
    await bad.body.dump();
  });

  it('keeps latency and faults for tool calls: per-chunk delay, and a reset mid-stream', async () => {
    provider.configure({ latency: { perChunkMs: 25 } });
    const startedAt = performance.now();
    await stream({ messages: ASK, tools: [WEATHER] });
    // The name frame and CHUNKS argument frames: CHUNKS gaps of 25 ms.
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(CHUNKS * 25 - 5);
    provider.configure({ latency: undefined });

    provider.failNext({ type: 'reset-mid-body', afterChunks: 2 });
    const response = await post({ messages: ASK, tools: [WEATHER], stream: true });
    const text = await response.body.text().catch(() => 'reset');
    expect(text).not.toContain('[DONE]');
    expect(provider.requests.at(-1)).toMatchObject({
      fault: { type: 'reset-mid-body' },
      outcome: 'faulted',
    });
  });
});

describe('InferenceService reading a stream of n choices', () => {
  it('summarises and judges the first choice alone, though the choices interleave', async () => {
    const sim = await SimulatedProvider.start({ chunks: CHUNKS });
    const app = await startRolloutApp(
      {
        legacy: { baseUrl: sim.baseUrl, apiKey: 'sk-any', defaultModel: 'm' },
        next: { baseUrl: sim.baseUrl, apiKey: 'sk-any', defaultModel: 'm' },
      },
      { phases: [{ weight: 100, durationMs: 3_600_000 }] },
    );
    try {
      const service = app.get(InferenceService);
      let summary: StreamSummary | undefined;
      const chunks = await collect(
        service.stream({ messages: ASK, tools: [WEATHER], n: 2 } as never, {
          onEnd: (ended) => (summary = ended),
        }),
      );
      expect(chunks.some((chunk) => chunk.choices.some((choice) => choice.index === 1))).toBe(true);
      expect(summary).toMatchObject({ outcome: 'completed', finishReason: 'tool_calls' });
      // The canary's one tool call parses: two choices' arguments glued together would not.
      const { canary } = await app.get(CanaryRollout).figures();
      expect(canary.calls).toBe(1);
      expect(canary.quality.tools).toBe(1);
      expect(canary.quality.signals).toEqual({});
    } finally {
      await app.close();
      await sim.close();
    }
  });
});
