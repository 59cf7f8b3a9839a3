export { RedisRolloutStore } from './redis-rollout.store.js';
export type { RedisRolloutStoreOptions } from './redis-rollout.store.js';
