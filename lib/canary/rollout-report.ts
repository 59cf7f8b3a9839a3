import type { Verdict } from './judge.js';
import type { RolloutStatus } from './rollout-state.js';
import type { SideFigures } from './side-metrics.js';

/** The rollout as the status API shows it. */
export interface RolloutReport {
  status: RolloutStatus;
  rolloutId: string;
  stable: string;
  canary: string;
  /** 1-based; null before the first phase. */
  phase: number | null;
  phases: number;
  /** The canary's share of sticky keys, in percent. */
  weightPercent: number;
  /** Why the rollout is where it is. */
  reason: string;
  changedAt: number;
  /** True when this replica could not read fresh state and sends every call to stable. */
  stale: boolean;
  /** Whether this replica holds the leader lease (it judges and moves the rollout). */
  leader: boolean;
  /** The current phase's figures, merged across replicas. */
  sides: { stable: SideFigures; canary: SideFigures };
  /** The judge's last verdict on this replica, if it judged. */
  lastVerdict?: Verdict & { at: number };
}
