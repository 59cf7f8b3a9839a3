import {
  Body,
  Controller,
  HttpCode,
  Post,
  Sse,
  type INestApplication,
  type MessageEvent,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import OpenAI, { APIError, NotFoundError } from 'openai';
import { map, type Observable } from 'rxjs';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  InferenceExceptionFilter,
  InferenceModule,
  InferenceOptionsError,
  InferenceService,
  openAiErrorBody,
  toHttpException,
  type ChatCompletionRequest,
  type InferenceError,
} from '../../lib/index.js';
import { SimulatedProvider, type SimulatedFault } from '../../lib/testing/index.js';
import { adapters, startHttpApp, type AdapterName } from '../support/http-app.js';
import { hello } from '../support/inference-harness.js';

const GATEWAY_KEY = 'sk-gateway-0123456789-secret';
const MAX_RETRIES = 2;

@Controller('v1')
class CompletionsController {
  constructor(private readonly inference: InferenceService) {}

  @Post('chat/completions')
  @HttpCode(200)
  create(@Body() body: ChatCompletionRequest) {
    return this.inference.chat(body);
  }

  @Sse('events')
  events(): Observable<MessageEvent> {
    return this.inference.stream(hello).pipe(map((chunk) => ({ data: chunk })));
  }
}

/** A Nest app with the filter, in front of one simulated provider named `legacy`. */
async function startGateway(adapter: AdapterName, sim: SimulatedProvider, errors?: object) {
  return startHttpApp(adapter, {
    imports: [
      InferenceModule.forRoot({
        providers: {
          legacy: {
            baseUrl: sim.baseUrl,
            apiKey: GATEWAY_KEY,
            defaultModel: 'gpt-4.1',
            retry: { maxRetries: MAX_RETRIES, baseDelayMs: 1, maxDelayMs: 5_000 },
            timeouts: { headersMs: 300, totalMs: 3_000 },
          },
        },
        ...(errors ? { errors } : {}),
      }),
    ],
    controllers: [CompletionsController],
    providers: [{ provide: APP_FILTER, useClass: InferenceExceptionFilter }],
  });
}

/** The gateway's own credentials were refused: say so, without the provider's words. */
const BLAMELESS = expect.stringMatching(
  /^(?!.*(Incorrect API key|not allowed)).*gateway's own credentials/,
);

interface Case {
  fault: SimulatedFault;
  status: number;
  error: Record<string, unknown>;
  attempts: number;
  headers?: Record<string, string | undefined>;
}

/** Upstream failures, each on every attempt, and what the gateway's client must see. */
const CASES: Record<string, Case> = {
  '400 context_length_exceeded': {
    fault: {
      type: 'status',
      status: 400,
      message: "This model's maximum context length is 128000 tokens.",
      code: 'context_length_exceeded',
      param: 'messages',
    },
    status: 400,
    error: {
      message: "This model's maximum context length is 128000 tokens.",
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
    },
    attempts: 1,
  },
  '404 model_not_found': {
    fault: {
      type: 'status',
      status: 404,
      message: 'The model `gpt-9` does not exist or you do not have access to it.',
      code: 'model_not_found',
      param: 'model',
    },
    status: 404,
    error: {
      message: 'The model `gpt-9` does not exist or you do not have access to it.',
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
    },
    attempts: 1,
  },
  '409 after the module’s retries': {
    fault: { type: 'status', status: 409, message: 'Conflict, try again.', code: null },
    status: 409,
    error: { message: 'Conflict, try again.', code: null, param: null },
    attempts: MAX_RETRIES + 1,
  },
  '413 request too large': {
    fault: { type: 'status', status: 413, message: 'Request too large.', code: 'too_large' },
    status: 413,
    error: { message: 'Request too large.', type: 'invalid_request_error', code: 'too_large' },
    attempts: 1,
  },
  '422 unprocessable': {
    fault: {
      type: 'status',
      status: 422,
      message: 'tools[0].function.name is invalid',
      errorType: 'invalid_request_error',
      code: 'invalid_value',
      param: 'tools[0].function.name',
    },
    status: 422,
    error: {
      message: 'tools[0].function.name is invalid',
      code: 'invalid_value',
      param: 'tools[0].function.name',
    },
    attempts: 1,
  },
  '401 for the gateway’s own key': {
    fault: {
      type: 'status',
      status: 401,
      message: `Incorrect API key provided: ${GATEWAY_KEY}.`,
      errorType: 'invalid_request_error',
      code: 'invalid_api_key',
    },
    status: 502,
    error: { type: 'server_error', code: 'upstream_unauthorized', param: null, message: BLAMELESS },
    attempts: 1,
    headers: { 'x-should-retry': 'false' },
  },
  '403 for the gateway’s own account': {
    fault: { type: 'status', status: 403, message: 'Project is not allowed.', code: 'forbidden' },
    status: 502,
    error: { type: 'server_error', code: 'upstream_unauthorized', param: null, message: BLAMELESS },
    attempts: 1,
  },
  '402 for the gateway’s own credit': {
    fault: {
      type: 'status',
      status: 402,
      message: 'You exceeded your current quota.',
      code: 'insufficient_quota',
    },
    status: 502,
    error: { type: 'server_error', code: 'upstream_unauthorized', param: null, message: BLAMELESS },
    attempts: 1,
  },
  '429 with a wait longer than the module’s cap': {
    fault: {
      type: 'status',
      status: 429,
      retryAfter: 30,
      message: 'Rate limit reached for requests per minute.',
      errorType: 'requests',
      code: 'rate_limit_exceeded',
    },
    status: 429,
    error: {
      message: 'Rate limit reached for requests per minute.',
      type: 'requests',
      code: 'rate_limit_exceeded',
    },
    attempts: 1,
    headers: { 'retry-after': '30', 'x-should-retry': 'false' },
  },
  '500 on every attempt': {
    fault: { type: 'status', status: 500, message: 'The server had an error.' },
    status: 502,
    error: { message: 'The server had an error.', type: 'server_error', code: 'simulated' },
    attempts: MAX_RETRIES + 1,
    headers: { 'x-should-retry': 'false' },
  },
  '503 on every attempt': {
    fault: { type: 'status', status: 503, message: 'Overloaded.', code: null },
    status: 503,
    error: { message: 'Overloaded.', type: 'server_error', code: null },
    attempts: MAX_RETRIES + 1,
    headers: { 'x-should-retry': 'false' },
  },
  'a provider that never answers': {
    fault: { type: 'stall-before-headers' },
    status: 504,
    error: { type: 'server_error', code: 'upstream_timeout', param: null },
    // A sent attempt that timed out is not retried (the provider may be generating it).
    attempts: 1,
    headers: { 'x-should-retry': 'false' },
  },
};

describe.each(Object.keys(adapters) as AdapterName[])('error responses on %s', (adapter) => {
  let sim: SimulatedProvider;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    sim = await SimulatedProvider.start({ apiKey: GATEWAY_KEY, chunks: 3 });
    ({ app, url } = await startGateway(adapter, sim));
  });
  afterAll(async () => {
    await app.close();
    await sim.close();
  });
  beforeEach(() => sim.reset());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it.each(Object.entries(CASES))('%s reaches the client in the provider’s words', async (_, c) => {
    sim.failNext(c.fault, c.attempts + 1);
    const response = await post(hello, { 'x-request-id': 'err-1' });
    const body = (await response.body.json()) as { error: Record<string, unknown> };
    expect(response.statusCode).toBe(c.status);
    expect(body.error).toMatchObject({ ...c.error, request_id: 'err-1' });
    expect(Object.keys(body.error).sort()).toEqual([
      'code',
      'message',
      'param',
      'request_id',
      'type',
    ]);
    for (const [name, value] of Object.entries(c.headers ?? {})) {
      expect(response.headers[name]).toBe(value);
    }
    expect(response.headers['x-request-id']).toBe('err-1');
    expect(sim.attempts).toBe(c.attempts);
    // No internal provider name, no key, no blame on the client for the gateway's credentials.
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/legacy/);
    expect(text).not.toContain(GATEWAY_KEY.slice(0, 12));
  });

  it('gives toHttpException the body and status the filter sends', async () => {
    sim.failNext(CASES['404 model_not_found']!.fault);
    const service = app.get(InferenceService);
    const error = (await service.chat(hello, { requestId: 'r-2' }).catch((e: unknown) => e)) as
      InferenceError | undefined;
    const exception = toHttpException(error!);
    expect(exception.getStatus()).toBe(404);
    expect(exception.getResponse()).toEqual(openAiErrorBody(error!));
    expect(exception.getResponse()).toMatchObject({
      error: { code: 'model_not_found', param: 'model', request_id: 'r-2' },
    });
  });

  describe('through the openai SDK, retries on', () => {
    let client: OpenAI;
    beforeAll(() => {
      client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 2 });
    });

    it('makes exactly the module’s attempts for a final 5xx, no more', async () => {
      sim.failNext({ type: 'status', status: 500, message: 'The server had an error.' }, 20);
      const error = await client.chat.completions
        .create({ model: 'gpt-4.1', messages: hello.messages })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).status).toBe(502);
      expect((error as APIError).message).toMatch(/The server had an error/);
      expect(sim.attempts).toBe(MAX_RETRIES + 1);
    });

    it('reads a 404 as NotFoundError with the provider’s code and param', async () => {
      sim.failNext(CASES['404 model_not_found']!.fault);
      const error = await client.chat.completions
        .create({ model: 'gpt-9', messages: hello.messages })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ code: 'model_not_found', param: 'model' });
      expect((error as NotFoundError).error).toMatchObject({
        message: 'The model `gpt-9` does not exist or you do not have access to it.',
        type: 'invalid_request_error',
      });
      expect(sim.attempts).toBe(1);
    });

    it('sets request_id from x-request-id on answers and errors, sent or generated', async () => {
      const sent = await client.chat.completions
        .create(
          { model: 'gpt-4.1', messages: hello.messages },
          { headers: { 'x-request-id': 'sdk-1' } },
        )
        .withResponse();
      expect(sent.request_id).toBe('sdk-1');
      const generated = await client.chat.completions
        .create({ model: 'gpt-4.1', messages: hello.messages })
        .withResponse();
      expect(generated.request_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(sim.requests.at(-1)!.headers['x-request-id']).toBe(generated.request_id);
      sim.failNext({ type: 'status', status: 400, message: 'bad' });
      const error = await client.chat.completions
        .create({ model: 'gpt-4.1', messages: hello.messages })
        .catch((e: unknown) => e);
      const failed = error as APIError & { error: { request_id: string } };
      expect(failed.requestID).toMatch(/^[0-9a-f-]{36}$/);
      expect(failed.requestID).toBe(failed.error.request_id);
    });
  });

  describe('x-request-id on every response', () => {
    it('echoes a usable incoming id and generates one otherwise, on a unary answer', async () => {
      const echoed = await post(hello, { 'x-request-id': 'req-abc' });
      await echoed.body.dump();
      expect(echoed.headers['x-request-id']).toBe('req-abc');
      expect(sim.requests.at(-1)!.headers['x-request-id']).toBe('req-abc');
      for (const headers of [{}, { 'x-request-id': 'a b<c>' }] as Record<string, string>[]) {
        const response = await post(hello, headers);
        await response.body.dump();
        expect(response.statusCode).toBe(200);
        expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
        expect(sim.requests.at(-1)!.headers['x-request-id']).toBe(response.headers['x-request-id']);
      }
    });

    it('on a stream', async () => {
      for (const headers of [{ 'x-request-id': 'stream-1' }, {}] as Record<string, string>[]) {
        const response = await request(`${url}/v1/events`, { headers });
        const text = await response.body.text();
        expect(response.statusCode).toBe(200);
        expect(text).toContain('tok2');
        const id = response.headers['x-request-id'];
        expect(id).toBe(headers['x-request-id'] ?? sim.requests.at(-1)!.headers['x-request-id']);
        expect(id).toMatch(/^(stream-1|[0-9a-f-]{36})$/);
      }
    });

    it('on errors, the module’s and the app’s, and on a route that does not exist', async () => {
      sim.failNext({ type: 'status', status: 400, message: 'bad' });
      const failed = await post(hello);
      const body = (await failed.body.json()) as { error: { request_id: string } };
      expect(failed.headers['x-request-id']).toBe(body.error.request_id);
      const invalid = await post({ messages: [] }, { 'x-request-id': 'bad-input' });
      await invalid.body.dump();
      expect(invalid.statusCode).toBe(400);
      expect(invalid.headers['x-request-id']).toBe('bad-input');
      const missing = await request(`${url}/nowhere`, { headers: { 'x-request-id': 'lost-1' } });
      await missing.body.dump();
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['x-request-id']).toBe('lost-1');
    });
  });
});

describe('errors.exposeProviderNames', () => {
  it('names the provider in the module’s own messages and in the body when set', async () => {
    const sim = await SimulatedProvider.start({ apiKey: GATEWAY_KEY });
    const { app, url } = await startGateway('express', sim, { exposeProviderNames: true });
    try {
      sim.failNext({ type: 'stall-before-headers' }, MAX_RETRIES + 1);
      const timedOut = await request(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(hello),
      });
      const body = (await timedOut.body.json()) as { error: Record<string, unknown> };
      expect(timedOut.statusCode).toBe(504);
      expect(body.error.message).toMatch(/provider "legacy"/);
      expect(body.error.provider).toBe('legacy');
    } finally {
      await app.close();
      await sim.close();
    }
  });

  it('is validated at startup, by name', async () => {
    const sim = await SimulatedProvider.start();
    try {
      await expect(startGateway('express', sim, { exposeProviderNames: 'yes' })).rejects.toThrow(
        InferenceOptionsError,
      );
      await expect(startGateway('express', sim, { exposeProviderNames: 'yes' })).rejects.toThrow(
        /errors\.exposeProviderNames is the string 'yes'\. Use one of: true, false/,
      );
    } finally {
      await sim.close();
    }
  });
});
