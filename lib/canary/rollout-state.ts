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
  /** The last transition, in words. */
  reason: string;
  changedAt: number;
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
