import 'reflect-metadata';
import { Body, Controller, Get, Module, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InferenceModel,
  InferenceModule,
  InferenceOptionsError,
  InferenceService,
  type InferenceModuleOptions,
} from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { adapters, startHttpApp, type AdapterName } from '../support/http-app.js';
import { TEST_API_KEY } from '../support/inference-harness.js';

const prompt = { messages: [{ role: 'user' as const, content: 'Recommend a book' }] };

@InferenceModel('recommend')
@Controller('lab')
class LabController {
  constructor(private readonly inference: InferenceService) {}

  /** The controller's model. */
  @Post('recommendations')
  async recommend() {
    return (await this.inference.chat(prompt)).inference;
  }

  /** The handler's wins over the controller's, with its defaults. */
  @InferenceModel({ model: 'chat', maxTokens: 64, temperature: 0.2 })
  @Post('chat')
  async chat(@Body() body: { model?: string }) {
    // Across awaits: the selection is still there.
    await delay(5);
    await Promise.resolve();
    return (await this.inference.chat({ ...prompt, model: body.model })).inference;
  }

  /** Inside a stream, started after an await. */
  @InferenceModel('chat')
  @Get('stream')
  async stream() {
    await delay(5);
    let model = '';
    for await (const chunk of this.inference.stream(prompt)) model = chunk.model;
    return { model };
  }

  /** A tight budget from the decorator. */
  @InferenceModel({ model: 'chat', timeouts: { headersMs: 100 } })
  @Post('hurried')
  async hurried() {
    return this.inference.chat(prompt, { maxRetries: 0 }).then(
      (result) => ({ ok: true, provider: result.inference.provider }),
      (error: { code?: string; phase?: string }) => ({
        ok: false,
        code: error.code,
        phase: error.phase,
      }),
    );
  }

  /** Pinned by the decorator to the new provider. */
  @InferenceModel({ model: 'chat', provider: 'next' })
  @Post('pinned')
  async pinned() {
    return (await this.inference.chat(prompt)).inference;
  }
}

function moduleOptions(legacy: SimulatedProvider, next: SimulatedProvider): InferenceModuleOptions {
  return {
    providers: {
      legacy: { baseUrl: legacy.baseUrl, apiKey: TEST_API_KEY },
      next: { baseUrl: next.baseUrl, apiKey: TEST_API_KEY },
    },
    defaultProvider: 'legacy',
    models: {
      chat: { legacy: 'gpt-4.1', next: 'deepseek-v3.2' },
      recommend: { legacy: 'gpt-4.1-mini', next: 'deepseek-v3.2' },
    },
  };
}

describe.each(Object.keys(adapters) as AdapterName[])('@InferenceModel on %s', (adapter) => {
  let legacy: SimulatedProvider;
  let next: SimulatedProvider;
  let app: INestApplication;
  let pool: Pool;

  beforeAll(async () => {
    legacy = await SimulatedProvider.start({ apiKey: TEST_API_KEY, chunks: 3 });
    next = await SimulatedProvider.start({ apiKey: TEST_API_KEY, chunks: 3 });
    @Module({
      imports: [InferenceModule.forRoot(moduleOptions(legacy, next))],
      controllers: [LabController],
    })
    class LabModule {}
    let url: string;
    ({ app, url } = await startHttpApp(adapter, { imports: [LabModule] }));
    pool = new Pool(url);
  });
  afterAll(async () => {
    await pool.close();
    await app.close();
    await Promise.all([legacy.close(), next.close()]);
  });

  async function call(method: 'GET' | 'POST', path: string, body: object = {}) {
    const response = await pool.request({
      method,
      path,
      headers: { 'content-type': 'application/json' },
      body: method === 'POST' ? JSON.stringify(body) : undefined,
    });
    return (await response.body.json()) as Record<string, unknown>;
  }
  const sent = (provider: SimulatedProvider) => provider.requests.at(-1)!.body!;

  it('uses the controller’s model, mapped to the provider’s own name', async () => {
    expect(await call('POST', '/lab/recommendations')).toMatchObject({
      provider: 'legacy',
      model: 'gpt-4.1-mini',
    });
    expect(sent(legacy)).toMatchObject({ model: 'gpt-4.1-mini' });
    expect(sent(legacy)).not.toHaveProperty('max_tokens');
  });

  it('lets the handler’s selection win, with its defaults, across awaits', async () => {
    await call('POST', '/lab/chat');
    expect(sent(legacy)).toMatchObject({ model: 'gpt-4.1', max_tokens: 64, temperature: 0.2 });
  });

  it('lets what the call names win over the route', async () => {
    await call('POST', '/lab/chat', { model: 'gpt-4o' });
    expect(sent(legacy)).toMatchObject({ model: 'gpt-4o', max_tokens: 64 });
  });

  it('carries the selection into a stream started after an await', async () => {
    expect(await call('GET', '/lab/stream')).toEqual({ model: 'gpt-4.1' });
    expect(sent(legacy)).toMatchObject({ model: 'gpt-4.1', stream: true });
  });

  it('applies the route’s timeouts when the call gives none', async () => {
    legacy.configure({ latency: { firstByteMs: 1_000 } });
    const started = performance.now();
    const answer = await call('POST', '/lab/hurried');
    legacy.configure({ latency: {} });
    expect(answer).toEqual({ ok: false, code: 'upstream_timeout', phase: 'headers' });
    expect(performance.now() - started).toBeLessThan(800);
  });

  it('pins a route to a provider, with the logical model mapped for it', async () => {
    expect(await call('POST', '/lab/pinned')).toMatchObject({
      provider: 'next',
      model: 'deepseek-v3.2',
    });
    expect(sent(next)).toMatchObject({ model: 'deepseek-v3.2' });
  });
});

describe('@InferenceModel checked at startup', () => {
  @Controller('bad')
  class BadController {
    @InferenceModel({
      model: 'gpt-5-ultra',
      provider: 'nowhere',
      maxTokens: -1,
      timeouts: { totalMs: 2 ** 31 },
    })
    @Post()
    create() {}
  }

  it('fails the app naming the controller, the handler and each problem', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        InferenceModule.forRoot({
          providers: { legacy: { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k' } },
          models: { chat: { legacy: 'gpt-4.1' } },
        }),
      ],
      controllers: [BadController],
    }).compile();
    const error = await moduleRef.init().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InferenceOptionsError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /@InferenceModel on BadController\.create names model "gpt-5-ultra", which is not configured\..*known: chat, gpt-4\.1/,
    );
    expect(message).toMatch(/BadController\.create pins provider "nowhere"/);
    expect(message).toMatch(/BadController\.create has maxTokens -1/);
    expect(message).toMatch(
      /BadController\.create: timeouts\.totalMs is 2147483648, above the limit/,
    );
  });
});
