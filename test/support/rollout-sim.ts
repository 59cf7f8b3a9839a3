import { CanaryRollout, type RecordedCall, type RolloutEvent } from '../../lib/canary/index.js';
import { InferenceHttpError, InferenceTimeoutError, type CanaryOptions } from '../../lib/index.js';
import type { ProviderRegistry } from '../../lib/client/provider.registry.js';
import { resolveInferenceOptions } from '../../lib/options/resolve-options.js';
import { ManualClock } from './manual-clock.js';

/**
 * How a simulated LLM provider answers. Streams are judged on their time to first chunk, unary
 * calls on their duration per output token; both have a log-normal body and a heavy tail.
 */
export interface Behaviour {
  /** Calls failing with a provider fault after every retry (a 500 on each attempt). */
  errorRate: number;
  /** Calls that time out: they count against the success rate, not the error rate. */
  timeoutRate?: number;
  /** Calls whose first attempt fails (a 500) and whose retry succeeds: visible in attempts only. */
  retriedRate?: number;
  /** Requests refused with a 4xx (context too long) on both sides: the client's fault. */
  invalidRate?: number;
  /** Requests only the canary refuses with a 4xx; the stable fallback serves them. */
  incompatibleRate?: number;
  /** Share of streamed calls. Default 0.3. */
  streamShare?: number;
  /** Streams: median time to first chunk. */
  firstChunkMs: number;
  /** Unary calls: median time before the first token, and per output token. */
  prefillMs: number;
  perTokenMs: number;
  /** Output tokens of a unary answer, drawn uniformly. */
  tokens: readonly [number, number];
  /** Log-normal spread (sigma of the log). */
  sigma: number;
  /** Share of calls in the heavy tail: slowed by a Pareto factor (2× or more). */
  tailShare: number;
  /** Every latency multiplied by this. Default 1. */
  slowdown?: number;
}

/**
 * Generation latencies of 0.5–3 s for unary calls (80–600 tokens), 0.3–2 s to a stream's first
 * chunk, heavy tails on both, some retried attempts, timeouts and invalid requests.
 */
export const LLM: Behaviour = {
  errorRate: 0.005,
  timeoutRate: 0.003,
  retriedRate: 0.02,
  invalidRate: 0.05,
  firstChunkMs: 600,
  prefillMs: 250,
  perTokenMs: 3.5,
  tokens: [80, 600],
  sigma: 0.35,
  tailShare: 0.03,
};

/** The migration story's providers, fast and slow, for tests that only need a healthy pair. */
export const HEALTHY: Behaviour = { ...LLM, invalidRate: 0, retriedRate: 0, errorRate: 0.002 };
export const LEGACY: Behaviour = { ...HEALTHY, slowdown: 1.6 };

const details = { provider: 'sim', requestId: 'sim' } as const;
const serverError = new InferenceHttpError('simulated 500', {
  ...details,
  phase: 'headers',
  retryable: true,
  status: 500,
  attempts: 3,
});
const timeout = new InferenceTimeoutError('simulated deadline', {
  ...details,
  phase: 'deadline',
  retryable: true,
});
const badRequest = new InferenceHttpError('context_length_exceeded', {
  ...details,
  phase: 'headers',
  retryable: false,
  status: 400,
});

/** A seeded random source (mulberry32), so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Successful answers are drawn from 65,536 answers generated once per behaviour (their own
 * seed): one lookup per call keeps whole Monte Carlo runs cheap, and two sides that behave the
 * same draw from the very same answers.
 */
const ANSWERS = 65_536;
const answerTables = new WeakMap<Behaviour, { latencyMs: Float64Array; tokens: Uint16Array }>();

function answersOf(behaviour: Behaviour): { latencyMs: Float64Array; tokens: Uint16Array } {
  let table = answerTables.get(behaviour);
  if (table) return table;
  const random = seededRandom(0x5eed);
  const logNormal = (median: number) =>
    median * Math.exp(behaviour.sigma * normalQuantile(Math.min(1 - 1e-12, random() + 1e-12)));
  table = { latencyMs: new Float64Array(ANSWERS), tokens: new Uint16Array(ANSWERS) };
  const slowdown = behaviour.slowdown ?? 1;
  const [low, high] = behaviour.tokens;
  for (let index = 0; index < ANSWERS; index++) {
    // The heavy tail: a Pareto factor of 2 or more (alpha 2) on a share of the calls.
    const tail = random() < behaviour.tailShare ? 2 / Math.sqrt(1 - random()) : 1;
    const factor = slowdown * tail;
    if (random() < (behaviour.streamShare ?? 0.3)) {
      table.latencyMs[index] = factor * logNormal(behaviour.firstChunkMs);
    } else {
      const tokens = Math.floor(low + random() * (high - low));
      table.tokens[index] = tokens;
      table.latencyMs[index] =
        factor * (logNormal(behaviour.prefillMs) + tokens * logNormal(behaviour.perTokenMs));
    }
  }
  answerTables.set(behaviour, table);
  return table;
}

/**
 * A `CanaryRollout` on a manual clock, fed with simulated calls: whole rollouts run in
 * milliseconds, through the real judge, state machine and store.
 */
export class RolloutSim {
  readonly clock = new ManualClock();
  readonly rollout: CanaryRollout;
  readonly events: RolloutEvent[] = [];
  readonly intervalMs: number;
  probesFail = false;
  // Reused per call, so recording allocates as little as the real path.
  // One shape for every call's facts: the record path stays monomorphic, as in the service.
  readonly #streamed: RecordedCall = facts({ streamed: true });
  readonly #unary: RecordedCall = facts({ outputTokens: 1 });
  readonly #fallback: RecordedCall = facts({ fallbackFrom: { error: badRequest } });
  readonly #failed: RecordedCall = facts({ attempts: 3 });
  readonly #unjudged: RecordedCall = facts({});

  constructor(
    canary: Partial<CanaryOptions> = {},
    readonly random: () => number = seededRandom(1),
  ) {
    const options = resolveInferenceOptions({
      providers: {
        legacy: { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k' },
        next: { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k' },
      },
      defaultProvider: 'legacy',
      canary: {
        stable: 'legacy',
        canary: 'next',
        syncIntervalMs: canary.intervalMs ?? 60_000,
        ...canary,
      },
      clock: this.clock,
      random,
    });
    this.intervalMs = options.canary!.intervalMs;
    const probe = async () => {
      if (this.probesFail) throw new Error('connection refused');
      return { latencyMs: 1 };
    };
    const registry = { get: () => ({ probe }) } as unknown as ProviderRegistry;
    this.rollout = new CanaryRollout(options, registry);
    this.rollout.subscribe((event) => this.events.push(event));
  }

  get status() {
    return this.rollout.state.status;
  }

  async start(): Promise<void> {
    await this.rollout.tick();
    await this.rollout.start();
  }

  /** Records `calls` calls on one side, as they would end under `behaviour`. */
  calls(side: 'stable' | 'canary', calls: number, behaviour: Behaviour): void {
    const rollout = this.rollout;
    const key = rollout.phaseKey;
    const random = this.random;
    const answers = answersOf(behaviour);
    // Cumulative shares of the ways a call can end.
    const invalid = behaviour.invalidRate ?? 0;
    const incompatible = invalid + (side === 'canary' ? (behaviour.incompatibleRate ?? 0) : 0);
    const errors = incompatible + behaviour.errorRate;
    const timeouts = errors + (behaviour.timeoutRate ?? 0);
    const retried = timeouts + (behaviour.retriedRate ?? 0);
    for (let call = 0; call < calls; call++) {
      const draw = random();
      if (draw < invalid) {
        rollout.record(side, key, badRequest, 40, 0, this.#unjudged);
      } else if (draw < incompatible) {
        rollout.record(side, key, badRequest, 40, 0, this.#unjudged);
        rollout.record('stable', key, undefined, 900, 0, this.#fallback);
      } else if (draw < errors) {
        rollout.record(side, key, serverError, 300, 0, this.#failed);
      } else if (draw < timeouts) {
        rollout.record(side, key, timeout, 30_000, 0, this.#unjudged);
      } else {
        const answer = (random() * ANSWERS) | 0;
        const tokens = answers.tokens[answer]!;
        const facts = tokens === 0 ? this.#streamed : this.#unary;
        facts.attempts = draw < retried ? 2 : 1;
        if (tokens > 0) facts.outputTokens = tokens;
        rollout.record(side, key, undefined, answers.latencyMs[answer]!, 0, facts);
      }
    }
  }

  /** One interval of traffic, then the clock moves on and the rollout ticks. */
  async interval(traffic: {
    canary: number;
    stable: number;
    canaryAs: Behaviour;
    stableAs: Behaviour;
  }): Promise<void> {
    this.calls('canary', traffic.canary, traffic.canaryAs);
    this.calls('stable', traffic.stable, traffic.stableAs);
    this.clock.advance(this.intervalMs);
    await this.rollout.tick();
  }
}

function facts(given: RecordedCall): RecordedCall {
  return {
    streamed: false,
    outputTokens: undefined,
    attempts: 1,
    callerBudgets: undefined,
    fallbackFrom: undefined,
    ...given,
  };
}

/** The standard normal quantile (Acklam's approximation, enough for a lookup table). */
function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 0.97575) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}
