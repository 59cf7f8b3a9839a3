import type { Clock } from '../client/clock.js';
import { MemoryRolloutStore, type RolloutStore } from './rollout.store.js';

/**
 * The store a rollout uses: the option `canary.store` when set, else the one provided under
 * `ROLLOUT_STORE`, else one in memory. The option wins because it is the one closest to the
 * rollout: a deployment configured with it never moves to another store because a provider
 * appears in scope (a global module, say). `ignored` says so when both were given.
 */
export function chooseRolloutStore(
  option: RolloutStore | undefined,
  provided: RolloutStore | undefined,
  clock: Clock,
): { store: RolloutStore; ignored?: string } {
  if (option && provided && option !== provided) {
    return {
      store: option,
      ignored:
        'canary.store and a provider under ROLLOUT_STORE are both given: the rollout uses ' +
        'canary.store, and the ROLLOUT_STORE provider is not used. Give the store one way only.',
    };
  }
  return { store: option ?? provided ?? new MemoryRolloutStore(() => clock.now()) };
}
