import type { VerdictKind } from './judge.js';
import type { ShadowFigures } from './shadow-metrics.js';
import type { SideFigures } from './side-metrics.js';

/**
 * Where a rollout stands. `rolled_back` is sticky: only a new `start` leaves it.
 * - `idle`: no rollout; every call goes to the stable provider.
 * - `warming`: the canary is probed (`GET /models`) before it gets traffic.
 * - `progressing`: the canary gets its phase's weight; the judge may advance the phase.
 * - `hold`: as `progressing`, but the judge lacks the samples to decide.
 * - `paused`: by an operator, or by a provider-wide incident (the stable side breaches too).
 */
export type RolloutStatus =
  'idle' | 'warming' | 'progressing' | 'hold' | 'paused' | 'promoted' | 'rolled_back';

/** The judge's last evaluation: its verdict and the figures it was decided on. */
export interface RolloutEvaluation {
  at: number;
  /** The phase judged (index in the phases). */
  phase: number;
  kind: VerdictKind;
  reasons: string[];
  /** `merged`: every replica's published figures added up; `local`: this leader's own only. */
  scope: 'merged' | 'local';
  /** How many replicas' figures were merged (1 when local). */
  replicas: number;
  sides: { stable: SideFigures; canary: SideFigures };
  /** The shadow comparisons of the phase (mirrored calls), when it mirrored any. */
  shadow?: ShadowFigures;
}

/** The shared state of a rollout: what every replica routes by. Plain JSON, so a store can keep it. */
export interface RolloutState {
  /** Increases with every write; a write names the version it read (compare-and-set). */
  version: number;
  /** A new id per started rollout; metrics are filed under it. */
  rolloutId: string;
  status: RolloutStatus;
  /** The sticky hash's salt. */
  salt: string;
  /** Index in the phases; -1 before the first. */
  phase: number;
  /** The canary's share in basis points (10,000 = 100%). */
  weightBps: number;
  phaseStartedAt: number;
  /** Set while paused, so the phase clock can skip the pause. */
  pausedAt?: number;
  pausedBy?: 'operator' | 'incident';
  /** Failing evaluations in a row. */
  failures: number;
  /** Warm-up probes: successes so far, failures in a row. */
  probesPassed: number;
  probesFailed: number;
  /** When the judge last ran, so a new leader does not judge the same interval twice. */
  evaluatedAt: number;
  /** Why the rollout is where it is: the last transition, or the last HOLD or incident, in words. */
  reason: string;
  changedAt: number;
  /** The judge's last evaluation, shared so every replica reports the same one. */
  evaluation?: RolloutEvaluation;
}

export const IDLE_STATE: RolloutState = {
  version: 0,
  rolloutId: '',
  status: 'idle',
  salt: '',
  phase: -1,
  weightBps: 0,
  phaseStartedAt: 0,
  failures: 0,
  probesPassed: 0,
  probesFailed: 0,
  evaluatedAt: 0,
  reason: 'no rollout has started',
  changedAt: 0,
};

/** Whether the rollout is under way: its calls are judged and it can still move. */
export function isActive(status: RolloutStatus): boolean {
  return (
    status === 'warming' || status === 'progressing' || status === 'hold' || status === 'paused'
  );
}
