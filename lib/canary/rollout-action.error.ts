import type { RolloutStatus } from './rollout-state.js';

export type RolloutAction = 'start' | 'pause' | 'resume' | 'advance' | 'rollback' | 'promote';

/** An operator action that does not apply to the rollout as it stands (HTTP 409). */
export class RolloutActionError extends Error {
  override readonly name = 'RolloutActionError';
  readonly code = 'rollout_conflict';

  constructor(
    readonly action: RolloutAction,
    readonly status: RolloutStatus,
    reason: string,
  ) {
    super(`Cannot ${action} the rollout: ${reason}`);
  }
}
