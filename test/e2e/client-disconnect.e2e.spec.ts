import { Controller, Get, HttpCode, Post, type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { getEventListeners } from 'node:events';
import { request as httpRequest } from 'node:http';
import OpenAI, { APIConnectionTimeoutError } from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CanaryRollout } from '../../lib/canary/index.js';
import {
  currentRequestContext,
  InferenceAbortedError,
  InferenceExceptionFilter,
  InferenceModule,
  InferenceService,
} from '../../lib/index.js';
import { ProviderRegistry } from '../../lib/client/provider.registry.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { adapters, startHttpApp, type AdapterName } from '../support/http-app.js';
import { hello } from '../support/inference-harness.js';

/** The contract: an abort reaches the upstream within this. */
const ABORT_BUDGET_MS = 100;

/** What the handlers saw, for the test to read. */
const seen: {
  outcome?: unknown;
  endedAt?: number;
  signal?: AbortSignal;
  listenersAfterCall?: number;
} = {};

@Controller()
class AskController {
  constructor(private readonly inference: InferenceService) {}

  /** One unary call; records how it ended and when. */
  @Post('v1/chat/completions')
  @HttpCode(200)
  async ask() {
    seen.signal = currentRequestContext()?.signal;
    try {
      const completion = await this.inference.chat(hello);
      seen.outcome = completion;
      seen.listenersAfterCall = getEventListeners(seen.signal!, 'abort').length;
      return completion;
    } catch (error) {
      seen.outcome = error;
      throw error;
    } finally {
      seen.endedAt = Date.now();
    }
  }

  /** Reads a whole stream before answering: nothing unsubscribes when the client goes. */
  @Post('v1/collect')
  @HttpCode(200)
  async collect() {
    let text = '';
    try {
      for await (const chunk of this.inference.stream(hello)) {
        text += chunk.choices[0]?.delta.content ?? '';
      }
      seen.outcome = text;
      return { text };
    } catch (error) {
      seen.outcome = error;
      throw error;
    } finally {
      seen.endedAt = Date.now();
    }
  }

  /** Answers at once: the request's signal must not abort once its response was written. */
  @Get('quick')
  quick() {
    seen.signal = currentRequestContext()?.signal;
    return { ok: true };
  }
}

/** Sends a POST on a connection of its own; `disconnect()` destroys it and returns when. */
function post(url: string, path = '/v1/chat/completions'): { disconnect(): number } {
  const outgoing = httpRequest(`${url}${path}`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'x-inference-canary': 'always' },
  });
  outgoing.on('error', () => undefined);
  outgoing.end(JSON.stringify(hello));
  return {
    disconnect() {
      const at = Date.now();
      outgoing.destroy();
      return at;
    },
  };
}

describe.each(Object.keys(adapters) as AdapterName[])(
  'a client that disconnects, on %s',
  (adapter) => {
    let legacy: SimulatedProvider;
    let next: SimulatedProvider;
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      legacy = await SimulatedProvider.start({ chunks: 2 });
      next = await SimulatedProvider.start({ chunks: 2 });
      const provider = (sim: SimulatedProvider, defaultModel: string) => ({
        baseUrl: sim.baseUrl,
        apiKey: 'sk-gateway',
        defaultModel,
        retry: { maxRetries: 2, baseDelayMs: 5_000, maxDelayMs: 5_000 },
      });
      ({ app, url } = await startHttpApp(adapter, {
        imports: [
          InferenceModule.forRoot({
            providers: { legacy: provider(legacy, 'legacy-model'), next: provider(next, 'm') },
            defaultProvider: 'legacy',
            // `x-inference-canary: always` sends a call to `next`, with `legacy` as its fallback.
            canary: {
              stable: 'legacy',
              canary: 'next',
              phases: [{ weight: 50, durationMs: 3_600_000 }],
              warmup: { probes: 0 },
              autoStart: true,
              fastFail: false,
              overrideHeader: true,
            },
            random: () => 0.99, // backoffs of ~5 s
          }),
        ],
        controllers: [AskController],
        providers: [{ provide: APP_FILTER, useClass: InferenceExceptionFilter }],
      }));
    });
    afterAll(async () => {
      await app.close();
      await Promise.all([legacy.close(), next.close()]);
    });
    beforeEach(() => {
      legacy.reset();
      next.reset();
      next.configure({ chunks: 2, latency: {} });
      for (const key of Object.keys(seen)) delete seen[key as keyof typeof seen];
    });

    /** Nothing about the cancelled call counted against anyone, and it did not fall back. */
    async function expectCountedAsCancelled(): Promise<void> {
      expect(seen.outcome).toBeInstanceOf(InferenceAbortedError);
      expect((seen.outcome as InferenceAbortedError).phase).toBe('aborted');
      expect(legacy.attempts).toBe(0); // no fallback
      const report = await app.get(CanaryRollout).report();
      expect(report.sides.canary).toMatchObject({ calls: 0, errors: 0 });
      expect(report.sides.stable).toMatchObject({ calls: 0, errors: 0 });
      expect(app.get(ProviderRegistry).get('next', 'test').health.consecutiveFailures).toBe(0);
    }

    it('aborts the upstream generation when the openai SDK times out and gives up', async () => {
      next.configure({ latency: { firstByteMs: 3_000 } });
      const client = new OpenAI({
        baseURL: `${url}/v1`,
        apiKey: 'unused',
        timeout: 500,
        maxRetries: 0,
        defaultHeaders: { 'x-inference-canary': 'always' },
      });
      const error = await client.chat.completions
        .create({ model: 'm', messages: hello.messages })
        .catch((e: unknown) => e);
      const gaveUpAt = Date.now();
      expect(error).toBeInstanceOf(APIConnectionTimeoutError);
      await expect.poll(() => next.aborted, { timeout: 1_000, interval: 2 }).toBe(1);
      expect(next.requests[0]!.endedAt! - gaveUpAt).toBeLessThan(ABORT_BUDGET_MS);
      await expect.poll(() => seen.outcome, { timeout: 1_000, interval: 2 }).toBeDefined();
      expect(seen.signal?.aborted).toBe(true);
      await expectCountedAsCancelled();
      expect(next.attempts).toBe(1); // no retry
    });

    it('aborts a unary call mid-generation: the provider sees it within 100 ms, and no retry follows', async () => {
      next.configure({ latency: { firstByteMs: 3_000 } });
      const client = post(url);
      await expect.poll(() => next.inProgress, { timeout: 1_000, interval: 2 }).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 200)); // mid-generation
      const disconnectedAt = client.disconnect();
      await expect.poll(() => next.aborted, { timeout: 1_000, interval: 2 }).toBe(1);
      expect(next.requests[0]!.endedAt! - disconnectedAt).toBeLessThan(ABORT_BUDGET_MS);
      await expect.poll(() => seen.endedAt, { timeout: 1_000, interval: 2 }).toBeDefined();
      expect(seen.endedAt! - disconnectedAt).toBeLessThan(ABORT_BUDGET_MS);
      await expectCountedAsCancelled();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(next.attempts).toBe(1);
    });

    it('aborts a stream the handler is reading to the end', async () => {
      next.configure({ chunks: 50, latency: { perChunkMs: 20 } });
      const client = post(url, '/v1/collect');
      await expect.poll(() => next.inProgress, { timeout: 1_000, interval: 2 }).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 200)); // mid-stream
      const disconnectedAt = client.disconnect();
      await expect.poll(() => next.aborted, { timeout: 1_000, interval: 2 }).toBe(1);
      expect(next.requests[0]!.endedAt! - disconnectedAt).toBeLessThan(ABORT_BUDGET_MS);
      await expect.poll(() => seen.endedAt, { timeout: 1_000, interval: 2 }).toBeDefined();
      await expectCountedAsCancelled();
      expect(next.attempts).toBe(1);
    });

    it('ends a call waiting in a retry backoff at once, with no further attempt', async () => {
      next.failNext({ type: 'status', status: 503 }, 3);
      const client = post(url);
      await expect.poll(() => next.attempts, { timeout: 1_000, interval: 2 }).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 100)); // in the ~5 s backoff now
      const disconnectedAt = client.disconnect();
      await expect.poll(() => seen.endedAt, { timeout: 1_000, interval: 2 }).toBeDefined();
      expect(seen.endedAt! - disconnectedAt).toBeLessThan(ABORT_BUDGET_MS);
      await expectCountedAsCancelled();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(next.attempts).toBe(1);
    });

    it('leaves the request signal alone when the response was written, and leaks no listener', async () => {
      const response = await request(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'x-inference-canary': 'always', connection: 'close' },
      });
      expect(response.statusCode).toBe(200);
      await response.body.dump();
      expect(seen.listenersAfterCall).toBe(0);
      const quick = await request(`${url}/quick`, { headers: { connection: 'close' } });
      await quick.body.dump();
      await new Promise((resolve) => setTimeout(resolve, 50)); // the socket closes after the answer
      expect(seen.signal).toBeInstanceOf(AbortSignal);
      expect(seen.signal!.aborted).toBe(false);
    });
  },
);
