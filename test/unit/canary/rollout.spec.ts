import { describe, expect, it } from 'vitest';
import {
  MemoryRolloutStore,
  RolloutActionError,
  type RolloutState,
} from '../../../lib/canary/index.js';
import { HEALTHY, LEGACY, LLM, RolloutSim, type Behaviour } from '../../support/rollout-sim.js';

const MINUTE = 60_000;
const steady = { canary: 150, stable: 600, canaryAs: HEALTHY, stableAs: LEGACY };

/** Runs intervals until `done` or `limit`; returns how many ran. */
async function runUntil(sim: RolloutSim, traffic: typeof steady, done: () => boolean, limit = 400) {
  let intervals = 0;
  while (!done() && intervals < limit) {
    await sim.interval(traffic);
    intervals++;
  }
  return intervals;
}

describe('rollout on a fake clock', () => {
  it('promotes a healthy canary through every default phase', async () => {
    const sim = new RolloutSim();
    await sim.start();
    expect(sim.status).toBe('warming');
    const intervals = await runUntil(sim, steady, () => sim.status === 'promoted');
    expect(sim.status).toBe('promoted');
    expect(sim.events.map((event) => [event.type, event.report.weightPercent])).toEqual([
      ['started', 0],
      ['progressing', 1],
      ['advanced', 5],
      ['advanced', 25],
      ['advanced', 50],
      ['promoted', 100],
    ]);
    // 3 probe intervals, then 15 + 30 + 60 + 120 minutes of phases.
    expect(intervals).toBe(3 + 15 + 30 + 60 + 120);
    expect(sim.rollout.weightBps).toBe(10_000);
    expect(sim.events.at(-1)!.reason).toMatch(/phase 4 ran its 7200000 ms and passed/);
  });

  it.each([
    ['error rate', { ...HEALTHY, errorRate: 0.1 }, /canary error rate \d+\.\d+% against stable's/],
    ['latency', { ...LEGACY, slowdown: 3.2 }, /is more than 1\.5× stable's/],
  ])(
    'rolls back a canary with an injected %s within 3 intervals of minSamples',
    async (_, bad, reason) => {
      const sim = new RolloutSim({ warmup: { probes: 0 } });
      await sim.start();
      let reachedAt: number | undefined;
      let intervals = 0;
      while (sim.status !== 'rolled_back' && intervals < 20) {
        await sim.interval({ ...steady, canary: 50, canaryAs: bad });
        intervals++;
        if (reachedAt === undefined && sim.rollout.state.phase === 0 && intervals * 50 >= 100)
          reachedAt = intervals;
      }
      expect(sim.status).toBe('rolled_back');
      expect(intervals - reachedAt!).toBeLessThanOrEqual(3);
      const event = sim.events.at(-1)!;
      expect(event.type).toBe('rolled_back');
      expect(event.reason).toMatch(reason);
      expect(event.report.sides.canary.calls).toBeGreaterThanOrEqual(100);
      expect(sim.rollout.weightBps).toBe(0);
      // Sticky: more healthy intervals do not bring it back.
      await runUntil(sim, steady, () => false, 5);
      expect(sim.status).toBe('rolled_back');
    },
  );

  it('pauses, not rolls back, when the stable side fails calls too, and resumes after', async () => {
    const sim = new RolloutSim({ warmup: { probes: 0 } });
    await sim.start();
    const failing = { ...HEALTHY, errorRate: 0.15 };
    await runUntil(
      sim,
      { ...steady, canaryAs: failing, stableAs: { ...LEGACY, errorRate: 0.15 } },
      () => false,
      6,
    );
    expect(sim.status).toBe('paused');
    expect(sim.rollout.state.pausedBy).toBe('incident');
    expect(sim.events.map((event) => event.type)).toEqual(['started', 'paused']);
    expect(sim.events[1]!.reason).toMatch(/^provider-wide incident.*stable failure rate/);
    // The next phase starts with fresh figures once the incident clears.
    await sim.rollout.advance();
    await runUntil(sim, steady, () => sim.status === 'progressing', 5);
    expect(sim.status).toBe('progressing');
  });

  it('holds without data, and never rolls back for lack of it', async () => {
    const sim = new RolloutSim({ warmup: { probes: 0 } });
    await sim.start();
    await runUntil(sim, { ...steady, canary: 0 }, () => false, 100);
    expect(sim.status).toBe('hold');
    expect(sim.rollout.state.phase).toBe(0);
    expect(sim.rollout.state.reason).toMatch(/0 of the 100 calls/);
    expect(sim.events.map((event) => event.type)).toEqual(['started', 'hold']);
    // Data arrives: the rollout moves on.
    await runUntil(sim, steady, () => sim.rollout.state.phase === 1, 20);
    expect(sim.rollout.state.phase).toBe(1);
  });

  it('rolls back at once when the canary fails most of its recent calls (fast-fail)', async () => {
    const sim = new RolloutSim({ warmup: { probes: 0 } });
    await sim.start();
    sim.calls('canary', 25, { ...HEALTHY, errorRate: 1 });
    // Routing stops before the store has the rollback.
    expect(sim.rollout.weightBps).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sim.status).toBe('rolled_back');
    expect(sim.rollout.state.reason).toMatch(/^fast-fail: 20 of the canary's last 20 calls failed/);
  });

  it('rolls back a canary that fails its warm-up probes', async () => {
    const sim = new RolloutSim({ intervalMs: MINUTE, syncIntervalMs: 5_000 });
    sim.probesFail = true;
    await sim.start();
    for (let tick = 0; tick < 3; tick++) {
      sim.clock.advance(5_000);
      await sim.rollout.tick();
    }
    expect(sim.status).toBe('rolled_back');
    expect(sim.rollout.state.reason).toMatch(
      /failed 3 health probes in a row \(connection refused\)/,
    );
  });

  it('takes operator actions, and refuses the ones that do not apply', async () => {
    const sim = new RolloutSim({ warmup: { probes: 0 } });
    await sim.start();
    await expect(sim.rollout.start()).rejects.toBeInstanceOf(RolloutActionError);
    await expect(sim.rollout.resume()).rejects.toThrow(
      /Cannot resume the rollout: the rollout is progressing, not paused/,
    );

    await sim.rollout.pause();
    await runUntil(sim, steady, () => false, 30);
    expect([sim.status, sim.rollout.state.phase]).toEqual(['paused', 0]); // the phase clock stopped
    await sim.rollout.resume();
    await runUntil(sim, steady, () => false, 14);
    expect(sim.rollout.state.phase).toBe(0); // 14 of its 15 minutes ran
    await runUntil(sim, steady, () => false, 1);
    expect(sim.rollout.state.phase).toBe(1);

    const advanced = await sim.rollout.advance();
    expect([advanced.phase, advanced.weightPercent]).toEqual([3, 25]);
    await sim.rollout.rollback('bad vibes');
    await expect(sim.rollout.advance()).rejects.toThrow(/the rollout is rolled_back/);
    expect(sim.rollout.weightBps).toBe(0);
    const restarted = await sim.rollout.start();
    expect([restarted.status, restarted.weightPercent]).toEqual(['progressing', 1]);
    expect((await sim.rollout.promote()).weightPercent).toBe(100);
    expect(sim.events.map((event) => event.type)).toEqual([
      'started',
      'paused',
      'resumed',
      'advanced',
      'advanced',
      'rolled_back',
      'started',
      'promoted',
    ]);
  });

  it('starts each rollout with a fresh salt, unless one is configured', async () => {
    const sim = new RolloutSim({ warmup: { probes: 0 } });
    await sim.start();
    const first = sim.rollout.state.salt;
    await sim.rollout.rollback();
    await sim.rollout.start();
    expect(sim.rollout.state.salt).not.toBe(first);
    const fixed = new RolloutSim({ warmup: { probes: 0 }, salt: 'cohort-7' });
    await fixed.start();
    expect(fixed.rollout.state.salt).toBe('cohort-7');
  });

  it('sends everything to stable when it cannot read fresh state', async () => {
    const store = new MemoryRolloutStore();
    let broken = false;
    const read = store.read.bind(store);
    store.read = async (): Promise<RolloutState | undefined> => {
      if (broken) throw new Error('store unreachable');
      return read();
    };
    const sim = new RolloutSim({ warmup: { probes: 0 }, store, syncIntervalMs: 5_000 });
    await sim.start();
    expect(sim.rollout.weightBps).toBe(100);
    broken = true;
    for (let tick = 0; tick < 4; tick++) {
      sim.clock.advance(5_000);
      await sim.rollout.tick();
    }
    expect(sim.rollout.stale).toBe(true);
    expect(sim.rollout.weightBps).toBe(0);
    broken = false;
    sim.clock.advance(5_000);
    await sim.rollout.tick();
    expect(sim.rollout.weightBps).toBe(100);
  });

  describe('on LLM traffic (generations of 0.5–3 s, heavy tails, both sides alike)', () => {
    const llm = (canaryAs: Behaviour, stableAs: Behaviour = LLM) => ({
      canary: 400,
      stable: 1_600,
      canaryAs,
      stableAs,
    });
    const phases = [1, 5, 25, 50].map((weight) => ({ weight, durationMs: 5 * MINUTE }));

    it('promotes a canary as good as stable (an absolute p99 of 500 ms rolled it back)', async () => {
      const sim = new RolloutSim({ warmup: { probes: 0 }, phases });
      await sim.start();
      await runUntil(sim, llm(LLM), () => sim.status === 'promoted', 40);
      expect(sim.status).toBe('promoted');
      expect(sim.events.map((event) => event.type)).not.toContain('rolled_back');
    });

    it('neither rolls back nor pauses for invalid requests (client faults) on both sides', async () => {
      const sim = new RolloutSim({ warmup: { probes: 0 }, phases });
      await sim.start();
      const invalid = { ...LLM, invalidRate: 0.3 };
      await runUntil(sim, llm(invalid, invalid), () => sim.status === 'promoted', 40);
      expect(sim.status).toBe('promoted');
      expect(sim.events.map((event) => event.type)).not.toContain('paused');
      // A quarter of the advance's figures: the 30% of invalid calls were counted on neither side.
      const advanced = sim.events.find((event) => event.type === 'advanced')!;
      expect(advanced.report.sides.canary.calls).toBeLessThan(5 * 400 * 0.75);
      expect(advanced.report.sides.canary.calls).toBeGreaterThan(5 * 400 * 0.65);
    });

    it('rolls back a canary whose calls succeed only on retry (40% of attempts fail)', async () => {
      const sim = new RolloutSim({ warmup: { probes: 0 }, phases });
      await sim.start();
      await runUntil(sim, llm({ ...LLM, retriedRate: 0.4 }), () => sim.status === 'rolled_back', 3);
      expect(sim.status).toBe('rolled_back');
      expect(sim.rollout.state.reason).toMatch(
        /canary attempt error rate \d\d\.\d% against stable's/,
      );
      const { canary } = (await sim.rollout.report()).sides;
      expect(canary.errorRate).toBeLessThan(0.01); // the calls themselves look fine
      expect(canary.attempts).toBeGreaterThan(canary.calls);
    });

    it('rolls back a canary refusing requests stable serves, and does not count the fallbacks as stable', async () => {
      const sim = new RolloutSim({ warmup: { probes: 0 }, phases });
      await sim.start();
      await runUntil(
        sim,
        llm({ ...LLM, incompatibleRate: 0.05 }),
        () => sim.status === 'rolled_back',
        3,
      );
      expect(sim.status).toBe('rolled_back');
      expect(sim.rollout.state.reason).toMatch(
        /canary incompatibility rate \d\.\d\d% \(4xx for requests stable served/,
      );
      const { sides } = await sim.rollout.report();
      expect(sides.canary.incompatible).toBeGreaterThan(0);
      expect(sides.canary.failures.canary_incompatible).toBe(sides.canary.incompatible);
      // 1,600 stable calls, 5% invalid: the fallbacks are not among them.
      expect(sides.stable.calls).toBeLessThanOrEqual(1_600);
    });
  });

  it('reports one evaluation: its reason, verdict and figures agree, merged or marked local', async () => {
    const sim = new RolloutSim({ warmup: { probes: 0 }, intervalMs: MINUTE });
    await sim.start();
    await sim.interval({ ...steady, canary: 21 });
    await sim.interval({ ...steady, canary: 21 });
    sim.calls('canary', 11, HEALTHY); // after the evaluation: not part of the report
    sim.rollout.recordIneligible(sim.rollout.phaseKey);
    const report = await sim.rollout.report();
    expect(report.status).toBe('hold');
    const judged = report.sides.canary.calls;
    expect(judged).toBeGreaterThanOrEqual(38); // 42 less the invalid requests
    expect(report.reason).toBe(`the canary has ${judged} of the 100 calls needed`);
    expect(report.lastVerdict).toMatchObject({ kind: 'hold', reasons: [report.reason] });
    expect(report.evaluation).toMatchObject({ phase: 1, scope: 'merged', replicas: 1 });
    expect(report.lastVerdict!.at).toBe(report.evaluation!.at);
    // The figures so far, not yet judged, are apart and say so.
    const live = await sim.rollout.figures();
    expect(live.canary.calls).toBeGreaterThan(judged);
    expect(live.canary).toMatchObject({ ineligible: 1 });
    expect(live.scope).toBe('merged');
  });

  it('never runs a round while the previous one is still running', async () => {
    const store = new MemoryRolloutStore();
    const read = store.read.bind(store);
    let reads = 0;
    let release: (() => void) | undefined;
    store.read = async (): Promise<RolloutState | undefined> => {
      reads++;
      if (release === undefined) return read();
      await new Promise<void>((resolve) => (release = resolve));
      return read();
    };
    const sim = new RolloutSim({ warmup: { probes: 0 }, store, syncIntervalMs: 50 });
    await sim.start();
    reads = 0;
    release = () => undefined; // the next read hangs
    const first = sim.rollout.tick();
    sim.clock.advance(50); // its bound passes: the loop moves on, the round does not
    await first;
    const second = sim.rollout.tick();
    sim.clock.advance(50);
    await second;
    expect(reads).toBe(1);
    release();
    release = undefined;
    await new Promise((resolve) => setImmediate(resolve));
    await sim.rollout.tick();
    expect(reads).toBe(2);
  });
});
