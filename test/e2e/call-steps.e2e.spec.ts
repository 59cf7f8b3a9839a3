import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InferenceModule, InferenceRequestError, InferenceService } from '../../lib/index.js';
import type { CallEndRecord } from '../../lib/call/call-end.record.js';
import { INFERENCE_CALL_STEPS, type CallStep } from '../../lib/call/call-step.js';
import type { InferenceCall } from '../../lib/call/inference-call.js';
import { RolloutStep } from '../../lib/call/rollout.step.js';
import { ProviderRegistry } from '../../lib/client/provider.registry.js';
import { InflightRegistry } from '../../lib/lifecycle/inflight.registry.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { CapturingLogger, collect, hello, TEST_API_KEY } from '../support/inference-harness.js';

/** A step that writes down what it sees, and refuses calls when told to. */
class ProbeStep implements CallStep {
  readonly befores: string[] = [];
  readonly afters: { requestId: string; record: CallEndRecord }[] = [];
  refuse: Error | undefined;
  async: boolean;

  constructor(
    readonly name: string,
    async = false,
  ) {
    this.async = async;
  }

  before(call: InferenceCall): void | Promise<void> {
    this.befores.push(call.requestId);
    if (this.refuse) {
      const error = this.refuse;
      if (this.async) return Promise.reject(error);
      throw error;
    }
    return this.async ? Promise.resolve() : undefined;
  }

  after(call: InferenceCall, record: CallEndRecord): void {
    this.afters.push({ requestId: call.requestId, record });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How each ending is brought about, and what its record must say. */
interface Ending {
  name: string;
  run(s: Setup, requestId: string): Promise<unknown>;
  outcome: CallEndRecord['outcome'];
  fault?: CallEndRecord['fault'];
  /** The probes' `before` ran (a stream never consumed never starts). */
  started?: boolean;
}

interface Setup {
  app: INestApplicationContext;
  service: InferenceService;
  provider: SimulatedProvider;
  first: ProbeStep;
  second: ProbeStep;
  registry: ProviderRegistry;
}

const settle = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: unknown) => error,
  );

const ENDINGS: Ending[] = [
  {
    name: 'a unary success',
    run: (s, requestId) => s.service.chat(hello, { requestId }),
    outcome: 'completed',
  },
  {
    name: 'a streamed success',
    run: (s, requestId) => collect(s.service.stream(hello, { requestId })),
    outcome: 'completed',
  },
  {
    name: 'an embeddings success',
    run: (s, requestId) => s.service.embed({ model: 'sim-embedding', input: 'a' }, { requestId }),
    outcome: 'completed',
  },
  {
    name: 'a provider error',
    run: (s, requestId) => {
      s.provider.failNext({ type: 'status', status: 500 }, 3);
      return settle(s.service.chat(hello, { requestId, maxRetries: 2 }));
    },
    outcome: 'failed',
    fault: 'provider',
  },
  {
    name: 'a request the provider refused',
    run: (s, requestId) => {
      s.provider.failNext({ type: 'status', status: 400 });
      return settle(collect(s.service.stream(hello, { requestId })));
    },
    outcome: 'failed',
    fault: 'client',
  },
  {
    name: "the caller's deadline",
    run: (s, requestId) => {
      s.provider.failNext({ type: 'stall-before-headers' });
      return settle(s.service.chat(hello, { requestId, timeouts: { totalMs: 100 } }));
    },
    outcome: 'failed',
    fault: 'cancelled',
  },
  {
    name: 'the client gone',
    run: (s, requestId) => {
      s.provider.failNext({ type: 'stall-before-headers' });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      return settle(s.service.chat(hello, { requestId, signal: controller.signal }));
    },
    outcome: 'aborted',
    fault: 'cancelled',
  },
  {
    name: 'the drain deadline',
    run: async (s, requestId) => {
      s.provider.failNext({ type: 'stall-mid-stream', afterChunks: 2 });
      const done = settle(collect(s.service.stream(hello, { requestId })));
      await sleep(100);
      s.app.get(InflightRegistry).abandon();
      return done;
    },
    outcome: 'failed',
    fault: 'cancelled',
  },
  {
    name: 'a stream cut by the provider',
    run: (s, requestId) => {
      s.provider.failNext({ type: 'reset-mid-body', afterChunks: 2 });
      return settle(collect(s.service.stream(hello, { requestId })));
    },
    outcome: 'failed',
    fault: 'provider',
  },
  {
    name: 'a stream the app stopped reading',
    run: async (s, requestId) => {
      for await (const _chunk of s.service.stream(hello, { requestId })) break;
    },
    outcome: 'aborted',
    fault: 'cancelled',
  },
  {
    name: 'a unary call refused by a step',
    run: (s, requestId) => {
      s.second.refuse = new Error('over the limit');
      return settle(s.service.chat(hello, { requestId }));
    },
    outcome: 'failed',
    fault: 'client',
  },
  {
    name: 'a stream refused by a step',
    run: (s, requestId) => {
      s.second.refuse = new Error('over the limit');
      return settle(collect(s.service.stream(hello, { requestId })));
    },
    outcome: 'failed',
    fault: 'client',
  },
];

describe.each([
  { mode: 'synchronous steps', async: false },
  { mode: 'steps that await', async: true },
])('every ending of a call, with $mode', ({ async }) => {
  let s: Setup;
  beforeAll(async () => {
    const provider = await SimulatedProvider.start({ apiKey: TEST_API_KEY, chunks: 6 });
    const first = new ProbeStep('first', async);
    const second = new ProbeStep('second', async);
    const moduleRef = await Test.createTestingModule({
      imports: [
        InferenceModule.forRoot({
          providers: {
            sim: {
              baseUrl: provider.baseUrl,
              apiKey: TEST_API_KEY,
              defaultModel: 'sim-model',
              timeouts: { idleMs: 5_000, totalMs: 10_000 },
              retry: { baseDelayMs: 1, maxDelayMs: 5 },
            },
          },
          shutdown: { readinessDelayMs: 0 },
        }),
      ],
    })
      .overrideProvider(INFERENCE_CALL_STEPS)
      .useFactory({
        factory: (step: RolloutStep) => [first, step, second],
        inject: [RolloutStep],
      })
      .setLogger(new CapturingLogger())
      .compile();
    const app = await moduleRef.init();
    s = {
      app,
      service: app.get(InferenceService),
      provider,
      first,
      second,
      registry: app.get(ProviderRegistry),
    };
  });
  beforeEach(() => {
    s.second.refuse = undefined;
  });
  afterAll(async () => {
    await s.app.close();
    await s.provider.close();
  });

  it.each(ENDINGS)('$name: each step sees it start, then its one record', async (ending) => {
    const requestId = `steps-${async ? 'a' : 's'}-${ending.name.replaceAll(' ', '-')}`;
    await ending.run(s, requestId);
    // A cut stream's end may come a moment after its consumer saw the error.
    for (let i = 0; i < 50 && s.second.afters.every((a) => a.requestId !== requestId); i++) {
      await sleep(10);
    }
    const refusedBySecond = ending.name.includes('refused by a step');
    expect(s.first.befores.filter((id) => id === requestId)).toHaveLength(1);
    expect(s.second.befores.filter((id) => id === requestId)).toHaveLength(1);
    const firstAfters = s.first.afters.filter((a) => a.requestId === requestId);
    const secondAfters = s.second.afters.filter((a) => a.requestId === requestId);
    expect(firstAfters).toHaveLength(1);
    expect(secondAfters).toHaveLength(1);
    // One record, the same object for every step.
    const record = firstAfters[0]!.record;
    expect(secondAfters[0]!.record).toBe(record);
    expect(record.outcome).toBe(ending.outcome);
    expect(record.fault).toBe(ending.fault);
    expect(record.requestId).toBe(requestId);
    expect(record.attempts > 0).toBe(!refusedBySecond);
    expect((record.error as Error | undefined)?.message === 'over the limit').toBe(refusedBySecond);
    // Nothing arrives later: wait a little and count again.
    await sleep(30);
    expect(s.first.afters.filter((a) => a.requestId === requestId)).toHaveLength(1);
  });

  it('a stream that is never consumed never starts: no step sees it', async () => {
    const requestId = `steps-${async ? 'a' : 's'}-never-consumed`;
    s.service.stream(hello, { requestId });
    await sleep(20);
    expect(s.first.befores).not.toContain(requestId);
    expect(s.first.afters.map((a) => a.requestId)).not.toContain(requestId);
  });

  it('counts every attempt of a stream its consumer stopped after a retry', async () => {
    const requestId = `steps-${async ? 'a' : 's'}-stopped-after-retry`;
    s.provider.failNext({ type: 'status', status: 503 });
    for await (const _chunk of s.service.stream(hello, { requestId })) break;
    const [after] = s.first.afters.filter((a) => a.requestId === requestId);
    expect(after!.record).toMatchObject({ outcome: 'aborted', attempts: 2 });
  });

  it('refuses a request JSON cannot express when the call is made: no step sees it', async () => {
    const requestId = `steps-${async ? 'a' : 's'}-not-json`;
    const request = { ...hello, temperature: 1n as unknown as number };
    expect(() => s.service.stream(request, { requestId })).toThrow(InferenceRequestError);
    await expect(s.service.chat(request, { requestId })).rejects.toThrow(/cannot be sent as JSON/);
    expect(s.first.befores).not.toContain(requestId);
  });

  it('a step that throws at the end does not keep the others from it', async () => {
    const requestId = `steps-${async ? 'a' : 's'}-after-throws`;
    const after = s.first.after.bind(s.first);
    s.first.after = () => {
      throw new Error('a broken step');
    };
    try {
      await s.service.chat(hello, { requestId });
    } finally {
      s.first.after = after;
    }
    expect(s.second.afters.filter((a) => a.requestId === requestId)).toHaveLength(1);
  });

  it("a caller's deadlines (total, first chunk) leave the provider healthy; a provider failure does not", async () => {
    const health = s.registry.get('sim', 'test').health;
    health.succeeded();
    s.provider.failNext({ type: 'stall-before-headers' });
    await settle(s.service.chat(hello, { timeouts: { totalMs: 80 } }));
    s.provider.failNext({ type: 'stall-before-headers' });
    await settle(collect(s.service.stream(hello, { timeouts: { firstChunkMs: 80 } })));
    expect(health.consecutiveFailures).toBe(0);
    s.provider.failNext({ type: 'status', status: 500 });
    await settle(s.service.chat(hello, { maxRetries: 0 }));
    expect(health.consecutiveFailures).toBe(1);
    health.succeeded();
  });
});
