import {
  CanaryRollout,
  InferenceHttpError,
  InferenceTimeoutError,
  type CanaryOptions,
  type RolloutEvent,
} from '../../lib/index.js';
import type { ProviderRegistry } from '../../lib/client/provider.registry.js';
import { resolveInferenceOptions } from '../../lib/options/index.js';
import { ManualClock } from './manual-clock.js';

/** How a simulated provider answers: its error rate and its latency distribution (log-normal). */
export interface Behaviour {
  errorRate: number;
  /** Calls that time out: they count against the success rate, not the error rate. */
  timeoutRate?: number;
  p50Ms: number;
  p99Ms: number;
}

export const HEALTHY: Behaviour = { errorRate: 0.002, p50Ms: 180, p99Ms: 420 };
export const LEGACY: Behaviour = { errorRate: 0.002, p50Ms: 420, p99Ms: 1800 };

const serverError = new InferenceHttpError('simulated 500', {
  provider: 'sim',
  requestId: 'sim',
  phase: 'headers',
  retryable: true,
  status: 500,
});
const timeout = new InferenceTimeoutError('simulated deadline', {
  provider: 'sim',
  requestId: 'sim',
  phase: 'deadline',
  retryable: true,
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
 * A `CanaryRollout` on a manual clock, fed with simulated calls: whole rollouts run in
 * milliseconds, through the real judge, state machine and store.
 */
export class RolloutSim {
  readonly clock = new ManualClock();
  readonly rollout: CanaryRollout;
  readonly events: RolloutEvent[] = [];
  readonly intervalMs: number;
  probesFail = false;
  #normalSpare: number | undefined;

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
    const key = this.rollout.phaseKey;
    const sigma = Math.log(behaviour.p99Ms / behaviour.p50Ms) / 2.3263;
    const timeoutRate = behaviour.timeoutRate ?? 0;
    for (let call = 0; call < calls; call++) {
      const draw = this.random();
      if (draw < behaviour.errorRate) {
        this.rollout.record(side, key, serverError, 50);
      } else if (draw < behaviour.errorRate + timeoutRate) {
        this.rollout.record(side, key, timeout, 30_000);
      } else {
        this.rollout.record(
          side,
          key,
          undefined,
          behaviour.p50Ms * Math.exp(sigma * this.#normal()),
        );
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

  #normal(): number {
    if (this.#normalSpare !== undefined) {
      const spare = this.#normalSpare;
      this.#normalSpare = undefined;
      return spare;
    }
    const u = 1 - this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#normalSpare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
