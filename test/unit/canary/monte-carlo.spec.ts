import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY, RolloutSim, seededRandom, type Behaviour } from '../../support/rollout-sim.js';

/**
 * The judge's error rates, measured over many simulated rollouts with the real judge, state
 * machine and store on a fake clock. The canary gets CALLS calls per interval (the judge needs
 * traffic to tell 2% from 4%; `npm run bench:canary` prints the rates for other volumes).
 */
const ROLLOUTS = 1_000;
const CALLS = 400;
const MINUTE = 60_000;
/** Four timed phases of five intervals each, then promotion: 20 judgements per rollout. */
const PHASES = [1, 5, 25, 50].map((weight) => ({ weight, durationMs: 5 * MINUTE }));
const HALF: Behaviour = { errorRate: 0.01, p50Ms: 180, p99Ms: 250 };

function newSim(seed: number): RolloutSim {
  return new RolloutSim({ phases: PHASES, warmup: { probes: 0 } }, seededRandom(seed));
}

async function falseRollbackRate(): Promise<number> {
  let rolledBack = 0;
  for (let seed = 1; seed <= ROLLOUTS; seed++) {
    const sim = newSim(seed);
    await sim.start();
    while (sim.status !== 'promoted' && sim.status !== 'rolled_back') {
      await sim.interval({ canary: CALLS, stable: CALLS, canaryAs: HALF, stableAs: LEGACY });
    }
    if (sim.status === 'rolled_back') rolledBack++;
  }
  return rolledBack / ROLLOUTS;
}

/** Share of rollouts rolled back within 3 intervals of the one that reached minSamples (the first). */
async function detectionRate(bad: Behaviour, calls = CALLS): Promise<number> {
  let detected = 0;
  for (let seed = 1; seed <= ROLLOUTS; seed++) {
    const sim = newSim(seed);
    await sim.start();
    for (let interval = 1; interval <= 1 + 3 && sim.status !== 'rolled_back'; interval++) {
      await sim.interval({ canary: calls, stable: calls, canaryAs: bad, stableAs: LEGACY });
    }
    if (sim.status === 'rolled_back') detected++;
  }
  return detected / ROLLOUTS;
}

describe(`Monte Carlo: ${ROLLOUTS} rollouts per scenario, ${CALLS} canary calls per interval`, () => {
  const rates: Record<string, string> = {};
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => {
    Logger.overrideLogger(new Logger());
    console.log(`Monte Carlo (${ROLLOUTS} rollouts each, ${CALLS} canary calls per interval):`);
    for (const [scenario, rate] of Object.entries(rates)) console.log(`  ${scenario}: ${rate}`);
  });

  it('rolls back at most 1% of canaries running at half the thresholds', async () => {
    const rate = await falseRollbackRate();
    rates['false rollbacks at half the thresholds (1% errors, p99 250 ms)'] =
      `${(rate * 100).toFixed(1)}%`;
    expect(rate).toBeLessThanOrEqual(0.01);
  }, 120_000);

  it.each([
    ['error rate 4%', { ...HALF, errorRate: 0.04 }],
    ['success rate 96% (timeouts)', { ...HALF, errorRate: 0, timeoutRate: 0.04 }],
    ['p99 1,000 ms', { ...HALF, errorRate: 0, p50Ms: 180, p99Ms: 1_000 }],
  ])(
    'detects a canary at twice the thresholds (%s) within 3 intervals in ≥ 99% of rollouts',
    async (name, bad) => {
      const rate = await detectionRate(bad as Behaviour);
      rates[`detection within 3 intervals at 2x (${name})`] = `${(rate * 100).toFixed(1)}%`;
      expect(rate).toBeGreaterThanOrEqual(0.99);
    },
    120_000,
  );

  it('detects sooner with more canary calls per interval (4% errors)', async () => {
    const volumes = [100, 200, 400, 800];
    const rates: number[] = [];
    for (const calls of volumes)
      rates.push(await detectionRate({ ...HALF, errorRate: 0.04 }, calls));
    console.log(
      `Detection within 3 intervals at 4% errors, by canary calls per interval: ${volumes
        .map((calls, i) => `${calls}: ${(rates[i]! * 100).toFixed(1)}%`)
        .join(', ')}`,
    );
    for (let i = 1; i < rates.length; i++)
      expect(rates[i]).toBeGreaterThanOrEqual(rates[i - 1]! - 0.005);
    expect(rates.at(-1)).toBeGreaterThanOrEqual(0.99);
  }, 120_000);
});
