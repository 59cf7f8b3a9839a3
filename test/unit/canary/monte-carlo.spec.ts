import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUALITY_SIGNALS } from '../../../lib/canary/answer-quality.js';
import { zScore } from '../../../lib/canary/judge.js';
import { type QualitySignal } from '../../../lib/canary/index.js';
import { qualityBreaches } from '../../../lib/canary/judge.js';
import { SIGNAL_BASE } from '../../../lib/canary/answer-quality.js';
import { DEFAULT_THRESHOLDS } from '../../../lib/canary/canary-options.js';
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

/**
 * Quality signals, on their own: the answers of a phase counted per signal and judged each
 * interval by `qualityBreaches` (the function the judge calls, with the default margin and
 * confidence). A rollout is 20 cumulative evaluations over four phases (the stable side gets 4×
 * the canary's answers in the first three, 1× in the 50% phase); any failing one is a rollback,
 * as with `consecutiveFailures: 1`. Answers: 30% ask for JSON, 10% make tool calls; on both
 * sides 0.5% empty, 2% truncated, 0.2% filtered, 1% of JSON answers invalid, 1% of tool calls
 * with arguments that do not parse. Counting instead of recording keeps it to about a second.
 */
interface QualityRates {
  empty: number;
  truncated: number;
  filtered: number;
  invalidJson: number;
  badToolArguments: number;
}
const BASELINE: QualityRates = {
  empty: 0.005,
  truncated: 0.02,
  filtered: 0.002,
  invalidJson: 0.01,
  badToolArguments: 0.01,
};
const BASES = ['all', 'json', 'tools'] as const;

class QualityCounts {
  readonly bases = new Float64Array(3);
  readonly signals = new Float64Array(QUALITY_SIGNALS.length);

  quality(signal: QualitySignal) {
    return {
      base: this.bases[BASES.indexOf(SIGNAL_BASE[signal])]!,
      count: this.signals[QUALITY_SIGNALS.indexOf(signal)]!,
    };
  }

  answers(n: number, rates: QualityRates, random: () => number): void {
    const s = this.signals;
    for (let i = 0; i < n; i++) {
      const kind = random();
      const draw = random();
      this.bases[0]! += 1;
      if (draw < rates.empty) s[0]! += 1;
      else if (draw < rates.empty + rates.truncated) s[1]! += 1;
      else if (draw < rates.empty + rates.truncated + rates.filtered) s[2]! += 1;
      // An independent share of the JSON answers and tool calls (read from the same draw).
      if (kind < 0.3) {
        this.bases[1]! += 1;
        if ((draw * 7.31) % 1 < rates.invalidJson) s[3]! += 1;
      } else if (kind < 0.4) {
        this.bases[2]! += 1;
        if ((draw * 7.31) % 1 < rates.badToolArguments) s[4]! += 1;
      }
    }
  }
}

const qualityCriteria = { minSamples: 100, ...DEFAULT_THRESHOLDS };
const qualityZ = zScore(qualityCriteria.confidence);

/** Rolled back within `intervals` evaluations (each on the phase so far; new phase every 5). */
function qualityRollback(canary: QualityRates, intervals: number, random: () => number): boolean {
  let c = new QualityCounts();
  let s = new QualityCounts();
  for (let interval = 0; interval < intervals; interval++) {
    if (interval > 0 && interval % 5 === 0) [c, s] = [new QualityCounts(), new QualityCounts()];
    c.answers(CALLS, canary, random);
    s.answers(interval < 15 ? 4 * CALLS : CALLS, BASELINE, random);
    if (qualityBreaches(c, s, qualityCriteria, qualityZ).length > 0) return true;
  }
  return false;
}

function qualityRate(canary: QualityRates, intervals: number): number {
  let rolledBack = 0;
  for (let seed = 1; seed <= ROLLOUTS; seed++) {
    if (qualityRollback(canary, intervals, seededRandom(seed))) rolledBack++;
  }
  return rolledBack / ROLLOUTS;
}

describe(`Monte Carlo, quality signals: ${ROLLOUTS} rollouts per scenario`, () => {
  const rates: [string, string][] = [];
  afterAll(() => {
    console.log(
      `Monte Carlo, quality signals (${ROLLOUTS} rollouts each, ${CALLS} canary answers per interval):`,
    );
    for (const [scenario, rate] of rates) console.log(`  ${scenario}: ${rate}`);
  });

  it('rolls back at most 1% of canaries whose answers are as good as stable, over whole rollouts', () => {
    const rate = qualityRate(BASELINE, 20);
    rates.push(['false rollbacks, same quality (whole rollouts, 20 evaluations)', percent(rate)]);
    expect(rate).toBeLessThanOrEqual(0.01);
  });

  it.each([
    ['truncated 2% → 7%', { ...BASELINE, truncated: 0.07 }],
    ['empty 0.5% → 4%', { ...BASELINE, empty: 0.04 }],
    ['invalid JSON 1% → 8% of JSON answers', { ...BASELINE, invalidJson: 0.08 }],
    ['unparsable tool arguments 1% → 12% of tool calls', { ...BASELINE, badToolArguments: 0.12 }],
  ])(
    'rolls back a canary with answers %s within 3 intervals of minSamples in ≥ 99% of rollouts',
    (name, bad) => {
      const rate = qualityRate(bad, 4);
      rates.push([`detection within 3 intervals, ${name}`, percent(rate)]);
      expect(rate).toBeGreaterThanOrEqual(0.99);
    },
  );
});
