import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLM, RolloutSim, seededRandom, type Behaviour } from '../../support/rollout-sim.js';

/**
 * The judge's error rates, measured over many simulated rollouts with the real judge, state
 * machine and store, default thresholds, on a fake clock. Traffic looks like an LLM's:
 * generations of 0.5–3 s (unary) and 0.3–2 s to a stream's first chunk, heavy tails, retried
 * attempts, timeouts and 5% invalid requests on both sides. The canary gets CALLS calls per
 * interval; the stable side gets its phase's share, capped at 4× the canary's (the real first
 * phases give it 19–99×, which only sharpens the comparison).
 *
 * `npx vitest run test/unit/canary/monte-carlo.spec.ts` prints the figures.
 */
const ROLLOUTS = 1_000;
const CALLS = 400;
const MINUTE = 60_000;
/** Four timed phases of five intervals each, then promotion: 20 judgements per rollout. */
const PHASES = [1, 5, 25, 50].map((weight) => ({ weight, durationMs: 5 * MINUTE }));

function newSim(seed: number): RolloutSim {
  return new RolloutSim({ phases: PHASES, warmup: { probes: 0 } }, seededRandom(seed));
}

/** The stable side's calls for CALLS canary calls at the rollout's weight, capped at 4×. */
function stableCalls(sim: RolloutSim, canary: number): number {
  const weight = sim.rollout.state.weightBps;
  return Math.round(canary * Math.min(4, (10_000 - weight) / weight));
}

async function falseRollbackRate(canary: Behaviour): Promise<number> {
  let rolledBack = 0;
  for (let seed = 1; seed <= ROLLOUTS; seed++) {
    const sim = newSim(seed);
    await sim.start();
    while (sim.status !== 'promoted' && sim.status !== 'rolled_back') {
      const stable = stableCalls(sim, CALLS);
      await sim.interval({ canary: CALLS, stable, canaryAs: canary, stableAs: LLM });
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
      const stable = stableCalls(sim, calls);
      await sim.interval({ canary: calls, stable, canaryAs: bad, stableAs: LLM });
    }
    if (sim.status === 'rolled_back') detected++;
  }
  return detected / ROLLOUTS;
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;

describe(`Monte Carlo: ${ROLLOUTS} rollouts per scenario, ${CALLS} canary calls per interval`, () => {
  const rates: [string, string][] = [];
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => {
    Logger.overrideLogger(new Logger());
    console.log(`Monte Carlo (${ROLLOUTS} rollouts each, ${CALLS} canary calls per interval):`);
    for (const [scenario, rate] of rates) console.log(`  ${scenario}: ${rate}`);
  });

  it('rolls back at most 1% of canaries as good as stable, over whole rollouts', async () => {
    const rate = await falseRollbackRate(LLM);
    rates.push(['false rollbacks, canary equal to stable (whole rollouts)', percent(rate)]);
    expect(rate).toBeLessThanOrEqual(0.01);
  }, 120_000);

  it.each([
    ['2× slower', { ...LLM, slowdown: 2 }],
    ['2 points more errors (0.5% → 2.5%)', { ...LLM, errorRate: LLM.errorRate + 0.02 }],
    ['20% of calls succeed only on retry (2% on stable)', { ...LLM, retriedRate: 0.2 }],
    ['3% of requests refused with a 4xx that stable serves', { ...LLM, incompatibleRate: 0.03 }],
  ])(
    'rolls back a canary %s within 3 intervals in ≥ 99% of rollouts',
    async (name, bad) => {
      const rate = await detectionRate(bad as Behaviour);
      rates.push([`detection within 3 intervals, ${name}`, percent(rate)]);
      expect(rate).toBeGreaterThanOrEqual(0.99);
    },
    120_000,
  );
});
