import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDLE_STATE } from '../../lib/canary/rollout-state.js';
import { QUALITY_SIGNALS } from '../../lib/canary/answer-quality.js';
import { type CanaryPhase } from '../../lib/index.js';
import { RedisRolloutStore } from '../../lib/redis/index.js';
import { RedisServer } from '../support/redis-server.js';
import { HEALTHY, RolloutSim, seededRandom } from '../support/rollout-sim.js';

/** Two replicas of one app: each its own CanaryRollout and clock, one Redis between them. */
function replicas(
  redis: RedisServer,
  prefix: string,
  options: { syncIntervalMs?: number; phases?: CanaryPhase[] } = {},
) {
  const replica = (seed: number) =>
    new RolloutSim(
      {
        warmup: { probes: 0 },
        store: new RedisRolloutStore(redis.client(), { prefix }),
        ...options,
      },
      seededRandom(seed),
    );
  return [replica(1), replica(2)] as const;
}

async function interval(...sims: RolloutSim[]) {
  for (const sim of sims) sim.clock.advance(sim.intervalMs);
  for (const sim of sims) await sim.rollout.tick();
}

describe('a rollout shared by replicas through Redis (real redis-server)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    Logger.overrideLogger(false);
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    Logger.overrideLogger(new Logger());
    await redis?.stop();
  });

  it('shares the state, merges both replicas figures, and has one leader', async () => {
    const [a, b] = replicas(redis, 'shared:');
    await a.start();
    await a.rollout.tick(); // a takes the lease
    await b.rollout.tick();
    expect([b.status, b.rollout.weightBps, b.rollout.state.salt]).toEqual([
      'progressing',
      100,
      a.rollout.state.salt,
    ]);
    // 60 calls a side each: neither replica alone has the 100 the judge needs; together they do.
    for (const replica of [a, b]) {
      replica.calls('canary', 60, HEALTHY);
      replica.calls('stable', 60, HEALTHY);
    }
    await interval(b, a);
    await b.rollout.tick(); // b reads the state a wrote, evaluation included
    const [fromA, fromB] = [await a.rollout.report(), await b.rollout.report()];
    expect(fromA.sides.canary.calls).toBe(120);
    expect([fromA.leader, fromB.leader]).toEqual([true, false]);
    expect(fromA.lastVerdict?.kind).toBe('pass');
    expect(fromA.evaluation).toMatchObject({ scope: 'merged', replicas: 2 });
    // One evaluation, reported alike by the replica that did not judge.
    expect(fromB.lastVerdict).toEqual(fromA.lastVerdict);
    expect(fromB.sides).toEqual(fromA.sides);
  });

  it('merges both replicas shadow pairs and quality signals, and judges the shadow gate on them', async () => {
    const [a, b] = replicas(redis, 'shadow:', {
      phases: [{ weight: 0, shadow: 10, durationMs: 3_600_000 }],
    });
    await a.start();
    await a.rollout.tick();
    await b.rollout.tick();
    expect([b.status, b.rollout.weightBps, b.rollout.shadowBps]).toEqual(['progressing', 0, 1_000]);
    const invalid = {
      flags: 1 << QUALITY_SIGNALS.indexOf('invalid_json'),
      json: true,
      tools: false,
    };
    const ok = { flags: 0, json: true, tools: false };
    // 60 pairs on each replica: neither alone has the 100 the gate needs; together they do.
    for (const replica of [a, b]) {
      const shadow = replica.rollout.shadowMetrics(replica.rollout.phaseKey)!;
      for (let i = 0; i < 60; i++) {
        shadow.record({
          streamed: false,
          servedLatencyMs: 400,
          canaryLatencyMs: 300,
          servedTotalMs: 400,
          canaryTotalMs: 300,
          servedUsd: 0.01,
          canaryUsd: 0.001,
          served: ok,
          canary: i % 4 === 0 ? invalid : ok,
          finishReasonsMatch: true,
          similarity: 0.9,
        });
      }
    }
    await interval(b, a);
    await b.rollout.tick();
    const report = await b.rollout.report();
    expect(report.evaluation).toMatchObject({ scope: 'merged', replicas: 2 });
    expect(report.shadow).toMatchObject({ pairs: 120 });
    expect(report.shadow!.quality.canary.signals).toEqual({ invalid_json: 30 });
    expect(report.status).toBe('rolled_back');
    expect(report.reason).toMatch(
      /shadow gate: canary invalid json answers 25\.0% against stable's 0\.00%/,
    );
  });

  it('carries an operator action taken on one replica to the other', async () => {
    const [a, b] = replicas(redis, 'operator:');
    await a.start();
    await b.rollout.tick();
    await b.rollout.rollback('seen on b');
    await a.rollout.tick();
    expect([a.status, a.rollout.weightBps, a.rollout.state.reason]).toEqual([
      'rolled_back',
      0,
      'seen on b',
    ]);
    expect(a.events.map((event) => event.type)).toEqual(['started']); // b made the transition
    expect(b.events.map((event) => event.type)).toEqual(['rolled_back']);
  });

  it('fences a leader whose lease passed to another replica', async () => {
    const store = new RedisRolloutStore(redis.client(), { prefix: 'fence:' });
    const first = await store.acquireLease('replica-a', 100);
    expect(first).toBeTypeOf('number');
    expect(await store.acquireLease('replica-b', 100)).toBeUndefined();
    expect(await store.acquireLease('replica-a', 100)).toBe(first); // renewed, same token
    await new Promise((resolve) => setTimeout(resolve, 150));
    const second = await store.acquireLease('replica-b', 5_000);
    expect(second).toBeGreaterThan(first!);
    const next = { ...IDLE_STATE, version: 1, status: 'progressing' as const, rolloutId: 'r1' };
    expect(await store.write(next, first)).toBe(false); // the old leader, paused past its lease
    expect(await store.write(next, second)).toBe(true);
    expect(await store.write(next, second)).toBe(false); // version 1 is taken: compare-and-set
    expect(await store.write({ ...next, version: 2 })).toBe(true); // operators need no lease
    expect((await store.read())?.version).toBe(2);
  });

  it('sends every call to stable while Redis does not answer, and resumes after', async () => {
    const [a] = replicas(redis, 'outage:', { syncIntervalMs: 300 });
    await a.start();
    expect(a.rollout.weightBps).toBe(100);
    const admin = redis.client();
    await admin.call('CLIENT', 'PAUSE', '2000', 'ALL');
    for (let round = 0; round < 4; round++) {
      const tick = a.rollout.tick();
      a.clock.advance(300); // the round's bound passes while Redis hangs; no second round starts
      await tick;
    }
    expect(a.rollout.stale).toBe(true);
    expect(a.rollout.weightBps).toBe(0);
    await admin.call('CLIENT', 'UNPAUSE');
    a.clock.advance(300);
    await a.rollout.tick();
    expect([a.rollout.stale, a.rollout.weightBps]).toEqual([false, 100]);
  });
});
