import type { RolloutEventType } from './rollout.machine.js';
import type { RolloutStatus } from './rollout-state.js';
import type { RolloutReport } from './rollout-report.js';

/** One transition of the rollout, with its reason and the figures it was decided on. */
export interface RolloutEvent {
  type: RolloutEventType;
  from: RolloutStatus;
  to: RolloutStatus;
  reason: string;
  /** Milliseconds since the epoch. */
  at: number;
  report: RolloutReport;
}

export type RolloutListener = (event: RolloutEvent) => void;
