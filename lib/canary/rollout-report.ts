import type { Verdict } from './judge.js';
import type { RolloutStatus } from './rollout-state.js';
import type { ShadowFigures } from './shadow-metrics.js';
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
  /** The canary's share of sticky keys, in percent, as this replica routes now. */
  weightPercent: number;
  /** Why the rollout is where it is: the last transition, or the latest HOLD or incident. */
  reason: string;
  changedAt: number;
  /** True when this replica could not read fresh state and sends every call to stable. */
  stale: boolean;
  /** Whether this replica holds the leader lease (it judges and moves the rollout). */
  leader: boolean;
  /**
   * The figures of the judge's last evaluation (zero before the first), the ones `lastVerdict`
   * was decided on. `evaluation` says when, on which phase, and whether they were merged.
   */
  sides: { stable: SideFigures; canary: SideFigures };
  /**
   * The shadow comparisons the last evaluation saw (mirrored calls against the answers served),
   * with `shadowPercent`, the stable side's share mirrored now; undefined without mirroring.
   */
  shadow?: ShadowFigures & { shadowPercent: number };
  /** The judge's last verdict, shared by every replica. */
  lastVerdict?: Verdict & { at: number };
  /** Where `sides` and `lastVerdict` come from. */
  evaluation?: {
    at: number;
    /** 1-based phase the evaluation judged. */
    phase: number;
    /** `merged`: every replica's figures added up; `local`: the leader's own only. */
    scope: 'merged' | 'local';
    replicas: number;
  };
}
