import 'reflect-metadata';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import OpenAI, { BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, CanaryRollout, type RolloutReport } from '../../lib/canary/index.js';
import { InferenceService, type ChatCompletionRequest } from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { AppModule } from '../../sample/app.module.js';
import { startHttpApp } from '../support/http-app.js';
import { TEST_API_KEY } from '../support/inference-harness.js';
import { startRolloutApp } from '../support/rollout-app.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'rollout-admin-token-llm';
const SAMPLE_ENV = [
  'INFERENCE_BASE_URL',
  'INFERENCE_API_KEY',
  'CANARY_BASE_URL',
  'CANARY_API_KEY',
  'ROLLOUT_PHASES',
  'ROLLOUT_INTERVAL_MS',
  'ROLLOUT_MIN_SAMPLES',
  'ROLLOUT_OVERRIDE_HEADER',
  'ROLLOUT_ADMIN_TOKEN',
  'READINESS_DELAY_MS',
] as const;

/** A prompt over the simulated models' context window of 200 tokens (about 800 characters). */
const TOO_LONG = 'lorem ipsum '.repeat(100);

describe('the sample gateway in a rollout, with SDK clients (real sockets)', () => {
  let legacy: SimulatedProvider;
  let next: SimulatedProvider;
  let app: INestApplication;
  let url: string;
  let rollout: CanaryRollout;
  const sdk = (user: string, headers: Record<string, string> = {}) =>
    new OpenAI({
      baseURL: `${url}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': user, ...headers },
    });
  const report = async () => (await (await fetch(`${url}/rollout`)).json()) as RolloutReport;
  const onCanary = (user: string) => bucketOf(rollout.state.salt, user) < 5_000;
  const users = (wanted: boolean, count: number) =>
    Array.from({ length: 400 }, (_, i) => `user-${i}`)
      .filter((user) => onCanary(user) === wanted)
      .slice(0, count);

  beforeAll(async () => {
    legacy = await SimulatedProvider.start({ apiKey: 'sk-legacy', chunks: 3, contextTokens: 200 });
    next = await SimulatedProvider.start({ apiKey: 'sk-next', chunks: 3, contextTokens: 200 });
    Object.assign(process.env, {
      INFERENCE_BASE_URL: legacy.baseUrl,
      INFERENCE_API_KEY: 'sk-legacy',
      CANARY_BASE_URL: next.baseUrl,
      CANARY_API_KEY: 'sk-next',
      ROLLOUT_PHASES: '50:1h,100',
      ROLLOUT_INTERVAL_MS: '200',
      ROLLOUT_MIN_SAMPLES: '20',
      ROLLOUT_OVERRIDE_HEADER: 'true',
      ROLLOUT_ADMIN_TOKEN: TOKEN,
      READINESS_DELAY_MS: '0',
    });
    ({ app, url } = await startHttpApp('express', { imports: [AppModule] }));
    rollout = app.get(CanaryRollout);
    await waitFor(() => rollout.state.status === 'progressing', 'the warm-up to end', 5_000);
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([legacy?.close(), next?.close()]);
    for (const name of SAMPLE_ENV) delete process.env[name];
  });

  it('sends an SDK call naming gpt-4.1 to each side under that side’s own model name', async () => {
    legacy.reset();
    next.reset();
    const ask = (user: string, model: string) =>
      sdk(user).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => ask(`user-${i}`, 'gpt-4.1')),
    );
    expect(new Set(answers.map((answer) => answer.model))).toEqual(
      new Set(['gpt-4.1', 'deepseek-v3.2']),
    );
    const modelsSeen = (provider: SimulatedProvider) =>
      new Set(provider.requests.map((request) => request.body?.model));
    expect(next.requests.length).toBeGreaterThan(5);
    expect(legacy.requests.length).toBeGreaterThan(5);
    expect(modelsSeen(next)).toEqual(new Set(['deepseek-v3.2']));
    expect(modelsSeen(legacy)).toEqual(new Set(['gpt-4.1']));

    // A canary call that fails falls back under legacy's own name.
    legacy.reset();
    next.reset();
    next.failNext({ type: 'status', status: 500 }, 3); // the first attempt and both retries
    const fellBack = await ask(users(true, 1)[0]!, 'gpt-4.1');
    expect(fellBack.model).toBe('gpt-4.1');
    expect(modelsSeen(next)).toEqual(new Set(['deepseek-v3.2']));
    expect(modelsSeen(legacy)).toEqual(new Set(['gpt-4.1']));

    // gpt-4.1-mini has no equivalent on next: its canary users are served by legacy, counted.
    const before = (await rollout.figures()).canary.ineligible;
    next.reset();
    for (const user of users(true, 5)) await ask(user, 'gpt-4.1-mini');
    expect(next.requests).toHaveLength(0);
    expect((await rollout.figures()).canary.ineligible - before).toBe(5);
  });

  it('answers a 30% mix of invalid requests 400 and does not roll back a healthy canary', async () => {
    const before = await rollout.figures();
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        sdk(`user-${i}`)
          .chat.completions.create({
            model: 'gpt-4.1',
            messages: [{ role: 'user', content: i % 10 < 3 ? TOO_LONG : 'hi' }],
          })
          .then(
            () => 200,
            (error: unknown) => {
              expect(error).toBeInstanceOf(BadRequestError);
              return (error as BadRequestError).status;
            },
          ),
      ),
    );
    expect(outcomes.filter((status) => status === 400)).toHaveLength(30);
    expect(outcomes.filter((status) => status === 200)).toHaveLength(70);
    const after = await rollout.figures();
    // The invalid requests are counted on neither side: only the 70 that were served are.
    expect(
      after.canary.calls + after.stable.calls - before.canary.calls - before.stable.calls,
    ).toBe(70);
    expect(after.canary.incompatible).toBe(0);
    const judgedAt = Date.now();
    await waitFor(
      async () => ((await report()).evaluation?.at ?? 0) > judgedAt,
      'an evaluation of these figures',
    );
    const status = await report();
    expect(['progressing', 'promoted']).toContain(status.status);
    expect(status.sides.canary.calls).toBeGreaterThanOrEqual(20);
    expect(status.lastVerdict?.kind).not.toBe('fail');
  });

  it('honours a forced call only while the rollout runs, refuses it after a rollback, and counts it nowhere', async () => {
    const forced = (user: string) =>
      sdk(user, { 'x-inference-canary': 'always' }).chat.completions.create({
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'hi' }],
      });
    const stableUser = users(false, 1)[0]!;
    const before = await rollout.figures();
    next.reset();
    expect((await forced(stableUser)).model).toBe('deepseek-v3.2');
    expect(next.requests).toHaveLength(1);
    const during = await rollout.figures();
    expect([during.canary.calls, during.stable.calls]).toEqual([
      before.canary.calls,
      before.stable.calls,
    ]);

    const rolledBack = await fetch(`${url}/rollout/rollback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(rolledBack.status).toBe(200);
    next.reset();
    expect((await forced(stableUser)).model).toBe('gpt-4.1');
    expect(next.requests).toHaveLength(0);
  });
});

describe('rollouts between two simulated LLM providers (real sockets)', () => {
  let legacy: SimulatedProvider | undefined;
  let next: SimulatedProvider | undefined;
  let app: INestApplicationContext | undefined;
  afterAll(async () => {
    await app?.close();
    await Promise.all([legacy?.close(), next?.close()]);
  });

  async function start(
    latency: { firstByteMs: [number, number]; perChunkMs: number },
    canary: Parameters<typeof startRolloutApp>[1],
    retry: { maxRetries?: number; baseDelayMs?: number; maxDelayMs?: number } = {},
  ) {
    await app?.close();
    await Promise.all([legacy?.close(), next?.close()]);
    legacy = await SimulatedProvider.start({ apiKey: TEST_API_KEY, chunks: 10, latency });
    next = await SimulatedProvider.start({ apiKey: TEST_API_KEY, chunks: 10, latency });
    const provider = (sim: SimulatedProvider, defaultModel: string) => ({
      baseUrl: sim.baseUrl,
      apiKey: TEST_API_KEY,
      defaultModel,
      retry,
    });
    app = await startRolloutApp(
      { legacy: provider(legacy, 'gpt-4.1'), next: provider(next, 'deepseek-v3.2') },
      canary,
    );
    return { service: app.get(InferenceService), rollout: app.get(CanaryRollout) };
  }

  /** `workers` callers, each calling in a loop (every third call streamed) until `done`. */
  async function traffic(service: InferenceService, done: () => boolean, workers = 40) {
    const request: ChatCompletionRequest = { messages: [{ role: 'user', content: 'Recommend' }] };
    const failures: unknown[] = [];
    let calls = 0;
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        for (let call = 0; !done(); call++) {
          const stickyKey = `u${worker}-${call}`;
          calls++;
          try {
            if ((worker + call) % 3 === 0) {
              for await (const _chunk of service.stream(request, { stickyKey })) {
                // read to the end
              }
            } else {
              await service.chat(request, { stickyKey });
            }
          } catch (error) {
            failures.push(error);
          }
        }
      }),
    );
    return { calls, failures };
  }

  it('promotes a canary whose 1 s generations match stable’s', async () => {
    // 0.9–1.1 s per answer on both sides; an absolute p99 of 500 ms rolled such canaries back.
    const { service, rollout } = await start(
      { firstByteMs: [850, 1_000], perChunkMs: 10 },
      {
        phases: [{ weight: 50, durationMs: 1_500 }],
        intervalMs: 500,
        syncIntervalMs: 250,
        minSamples: 20,
      },
    );
    const until = Date.now() + 10_000;
    const done = () => rollout.state.status !== 'progressing' && rollout.state.status !== 'hold';
    const { failures } = await traffic(service, () => done() || Date.now() > until);
    expect(failures).toEqual([]);
    expect(rollout.state.status).toBe('promoted');
    const { lastVerdict, sides } = await rollout.report();
    expect(lastVerdict?.kind).toBe('pass');
    expect(sides.canary.perOutputToken.count).toBeGreaterThan(0);
    expect(sides.canary.firstChunk.count).toBeGreaterThan(0);
  }, 20_000);

  it('rolls back a canary whose 40% of 500s the retries hide, while every caller is answered', async () => {
    const { service, rollout } = await start(
      { firstByteMs: [5, 15], perChunkMs: 0 },
      { phases: [{ weight: 50, durationMs: 3_600_000 }], intervalMs: 300, minSamples: 30 },
      { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 5 },
    );
    next!.setFaultRate({ type: 'status', status: 500 }, 0.4);
    const until = Date.now() + 10_000;
    const { calls, failures } = await traffic(
      service,
      () => rollout.state.status === 'rolled_back' || Date.now() > until,
      16,
    );
    expect(rollout.state.status).toBe('rolled_back');
    expect(rollout.state.reason).toMatch(/canary attempt error rate \d\d\.\d% against stable's/);
    expect(calls).toBeGreaterThan(30);
    expect(failures).toEqual([]); // the calls that failed every attempt fell back to stable
    const { canary } = (await rollout.report()).sides;
    // Binomial bounds, four standard errors wide at the counts measured (a few dozen calls, so a
    // fixed 0.3 failed a run in twenty): each attempt fails with p = 0.4, a call after 3 attempts
    // with p = 0.4³ (0.4 without the retries).
    const within = (rate: number, p: number, n: number) =>
      Math.abs(rate - p) < 4 * Math.sqrt((p * (1 - p)) / n);
    expect(canary.attempts).toBeGreaterThan(canary.calls); // the retries are counted
    expect(canary.failedAttempts).toBeGreaterThan(canary.errors * 2);
    expect(within(canary.attemptErrorRate, 0.4, canary.attempts)).toBe(true);
    expect(within(canary.errorRate, 0.4 ** 3, canary.calls)).toBe(true);
  }, 20_000);
});
