import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, CanaryRollout } from '../../lib/canary/index.js';
import {
  InferenceService,
  runWithRequestContext,
  type CanaryOptions,
  type StreamSummary,
} from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { CapturingLogger, collect, hello, TEST_API_KEY } from '../support/inference-harness.js';
import { startRolloutApp } from '../support/rollout-app.js';
import { waitFor } from '../support/wait-for.js';

interface Setup {
  app: INestApplicationContext;
  service: InferenceService;
  rollout: CanaryRollout;
  legacy: SimulatedProvider;
  next: SimulatedProvider;
  logger: CapturingLogger;
}

async function setup(canary: Partial<CanaryOptions> = {}): Promise<Setup> {
  const legacy = await SimulatedProvider.start({ apiKey: TEST_API_KEY, chunks: 4 });
  const next = await SimulatedProvider.start({ apiKey: TEST_API_KEY, chunks: 4 });
  const logger = new CapturingLogger();
  const provider = (sim: SimulatedProvider, defaultModel: string) => ({
    baseUrl: sim.baseUrl,
    apiKey: TEST_API_KEY,
    defaultModel,
    retry: { maxRetries: 0 },
  });
  const app = await startRolloutApp(
    { legacy: provider(legacy, 'legacy-model'), next: provider(next, 'next-model') },
    { fastFail: false, overrideHeader: true, ...canary },
    logger,
  );
  return {
    app,
    service: app.get(InferenceService),
    rollout: app.get(CanaryRollout),
    legacy,
    next,
    logger,
  };
}

const content = (chunks: { choices: { delta?: { content?: string | null } }[] }[]) =>
  chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');

describe('canary routing through InferenceService (two simulated providers)', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterEach(() => {
    s.legacy.reset();
    s.next.reset();
    s.logger.lines.length = 0;
  });
  afterAll(async () => {
    await s.app.close();
    await s.legacy.close();
    await s.next.close();
  });

  it('starts the rollout at boot and routes each sticky key to one side, by its bucket', async () => {
    expect(s.rollout.state.status).toBe('progressing');
    const salt = s.rollout.state.salt;
    for (let user = 0; user < 40; user++) {
      const key = `user-${user}`;
      const expected = bucketOf(salt, key) < 5_000 ? 'canary' : 'stable';
      for (let call = 0; call < 2; call++) {
        const result = await s.service.chat(hello, { stickyKey: key });
        expect(result.inference.side).toBe(expected);
        expect(result.inference.provider).toBe(expected === 'canary' ? 'next' : 'legacy');
      }
    }
  });

  it('reads the sticky key and the override header from the request being handled', async () => {
    const salt = s.rollout.state.salt;
    const canaryUser = Array.from({ length: 100 }, (_, i) => `u${i}`).find(
      (key) => bucketOf(salt, key) < 5_000,
    )!;
    const fromHeader = await runWithRequestContext(
      { requestId: 'r1', headers: { 'x-user-id': canaryUser } },
      () => s.service.chat(hello),
    );
    expect(fromHeader.inference.side).toBe('canary');
    const forced = await runWithRequestContext(
      { requestId: 'r2', headers: { 'x-user-id': canaryUser, 'x-inference-canary': 'never' } },
      () => s.service.chat(hello),
    );
    expect(forced.inference.side).toBe('stable');
  });

  // 402 and 407 are the gateway's own account with the canary (its credit, its proxy): the
  // canary's fault, like a 500, never an incompatibility with the request.
  it.each([500, 402, 407])(
    'falls back to stable when a canary call fails before answering (%i), and counts the failure',
    async (status) => {
      const figures = () => s.rollout.figures();
      const before = await figures();
      s.next.failNext({ type: 'status', status });
      const result = await s.service.chat(hello, { stickyKey: canaryKey(s) });
      expect(result.inference).toMatchObject({
        provider: 'legacy',
        side: 'stable',
        fallbackFrom: 'next',
      });
      expect(result.model).toBe('legacy-model');
      expect([s.next.requests.length, s.legacy.requests.length]).toEqual([1, 1]);
      const after = await figures();
      expect(after.canary.failures.upstream_http_error).toBe(
        (before.canary.failures.upstream_http_error ?? 0) + 1,
      );
      expect(after.canary.incompatible).toBe(before.canary.incompatible);
      // The fallback serves a canary call: it is not part of the stable side's figures.
      expect(after.stable.calls).toBe(before.stable.calls);
    },
  );

  it('counts a canary 4xx that stable then serves as incompatible, and one both refuse as neither', async () => {
    const before = await s.rollout.figures();
    s.next.failNext({ type: 'status', status: 400, message: 'response_format is not supported' });
    const served = await s.service.chat(hello, { stickyKey: canaryKey(s) });
    expect(served.inference).toMatchObject({ provider: 'legacy', fallbackFrom: 'next' });
    s.next.failNext({ type: 'status', status: 400, message: 'context_length_exceeded' });
    s.legacy.failNext({ type: 'status', status: 400, message: 'context_length_exceeded' });
    await expect(s.service.chat(hello, { stickyKey: canaryKey(s) })).rejects.toMatchObject({
      provider: 'legacy',
      status: 400,
    });
    s.legacy.failNext({ type: 'status', status: 400, message: 'context_length_exceeded' });
    await expect(s.service.chat(hello, { stickyKey: stableKey(s) })).rejects.toMatchObject({
      status: 400,
    });
    const after = await s.rollout.figures();
    expect(after.canary.incompatible - before.canary.incompatible).toBe(1);
    expect(after.canary.calls - before.canary.calls).toBe(1);
    expect(after.stable.calls).toBe(before.stable.calls);
    expect([after.canary.errors, after.stable.errors]).toEqual([
      before.canary.errors,
      before.stable.errors,
    ]);
  });

  it('sends a forced call where asked, counting it nowhere', async () => {
    const before = await s.rollout.figures();
    const forced = await forcedCanary(() => s.service.chat(hello, { stickyKey: stableKey(s) }));
    expect(forced.inference).toMatchObject({ provider: 'next', side: 'canary' });
    const after = await s.rollout.figures();
    expect([after.canary.calls, after.stable.calls]).toEqual([
      before.canary.calls,
      before.stable.calls,
    ]);
  });

  it('falls back for a stream that fails before its first chunk, with one onEnd', async () => {
    s.next.failNext({ type: 'reset-before-headers' });
    const ends: StreamSummary[] = [];
    const chunks = await forcedCanary(() =>
      collect(s.service.stream(hello, { onEnd: (summary) => ends.push(summary) })),
    );
    expect(content(chunks)).toBe('tok0 tok1 tok2 tok3 ');
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({
      provider: 'legacy',
      side: 'stable',
      fallbackFrom: 'next',
      outcome: 'completed',
    });
  });

  it('never falls back once a chunk reached the caller: no token twice', async () => {
    s.next.failNext({ type: 'reset-mid-body', afterChunks: 2 });
    const received: string[] = [];
    await expect(
      forcedCanary(async () => {
        for await (const chunk of s.service.stream(hello)) received.push(content([chunk]));
      }),
    ).rejects.toMatchObject({ provider: 'next' });
    expect(received.length).toBeGreaterThan(0);
    expect(s.legacy.requests).toHaveLength(0);
    // Nor does its record, its log line or its metrics say it did.
    expect(s.logger.lines.filter((line) => line.includes('falling back'))).toEqual([]);
  });

  it('fails a canary call with its own error when stable cannot take the request', async () => {
    // The request names the canary's own model, which has no name on legacy.
    s.next.failNext({ type: 'status', status: 500 });
    const error = await forcedCanary(() =>
      s.service.chat({ ...hello, model: 'next-model' }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      ),
    );
    expect(error).toMatchObject({ provider: 'next', status: 500 });
    expect(s.legacy.requests).toHaveLength(0);
    expect(s.logger.lines.filter((line) => line.includes('falling back'))).toEqual([]);
  });

  it('sends a call pinned to a provider there, with no routing and no fallback', async () => {
    s.next.failNext({ type: 'status', status: 500 });
    const before = (await s.rollout.figures()).canary.calls;
    await expect(s.service.chat(hello, { provider: 'next' })).rejects.toMatchObject({
      status: 500,
    });
    expect(s.legacy.requests).toHaveLength(0);
    expect((await s.rollout.figures()).canary.calls).toBe(before);
  });

  it('does not fall back, nor count, a call the caller cancelled', async () => {
    s.next.configure({ latency: { firstByteMs: 2_000 } });
    const before = (await s.rollout.figures()).canary.calls;
    const controller = new AbortController();
    const call = s.service.chat(hello, { signal: controller.signal, stickyKey: canaryKey(s) });
    await waitFor(() => s.next.inProgress === 1, 'the canary call to start');
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'aborted' });
    expect(s.legacy.requests).toHaveLength(0);
    expect((await s.rollout.figures()).canary.calls).toBe(before);
    s.next.configure({ latency: { firstByteMs: 0 } });
  });
});

describe('rollout webhook', () => {
  it('receives each transition, and a slow endpoint holds up no call', async () => {
    const received: { type: string; to: string; report: { weightPercent: number } }[] = [];
    let slow = true;
    const hook = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (part) => (body += part));
      request.on('end', () => {
        if (slow) return; // never answers: the webhook times out and retries
        received.push(JSON.parse(body));
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const port = (hook.address() as { port: number }).port;
    const s = await setup({
      webhook: {
        url: `http://127.0.0.1:${port}/rollout`,
        timeoutMs: 200,
        retries: 3,
        headers: { authorization: 'Bearer hook-secret' },
      },
    });
    try {
      const startedAt = performance.now();
      await s.service.chat(hello);
      expect(performance.now() - startedAt).toBeLessThan(150); // the hook is stuck; calls are not
      slow = false;
      await s.rollout.rollback('drill');
      await waitFor(() => received.length === 2, 'both events delivered', 5_000);
      expect(received.map((event) => [event.type, event.to, event.report.weightPercent])).toEqual([
        ['started', 'progressing', 50],
        ['rolled_back', 'rolled_back', 0],
      ]);
      expect(s.logger.lines.join('\n')).not.toContain('hook-secret');
    } finally {
      await s.app.close();
      await s.legacy.close();
      await s.next.close();
      hook.closeAllConnections();
      hook.close();
    }
  });
});

/** Sticky keys that the rollout's salt puts on the canary (bucket < 50%) and on stable. */
function canaryKey(s: Setup): string {
  return keyWhere(s, (bucket) => bucket < 5_000);
}

function stableKey(s: Setup): string {
  return keyWhere(s, (bucket) => bucket >= 5_000);
}

function keyWhere(s: Setup, wanted: (bucket: number) => boolean): string {
  const salt = s.rollout.state.salt;
  return Array.from({ length: 200 }, (_, i) => `user-${i}`).find((key) =>
    wanted(bucketOf(salt, key)),
  )!;
}

/** Runs `fn` as if handling a request whose override header forces the canary. */
function forcedCanary<T>(fn: () => Promise<T>): Promise<T> {
  return runWithRequestContext(
    { requestId: 'forced', headers: { 'x-inference-canary': 'always' } },
    fn,
  );
}
