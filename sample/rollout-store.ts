import type { RolloutStore } from 'nestjs-inference';

/**
 * With `REDIS_URL`, replicas share one rollout through Redis; without it, each keeps its own in
 * memory (fine for one replica). `ioredis` is loaded only when it is used.
 */
export async function rolloutStoreFrom(env: NodeJS.ProcessEnv): Promise<RolloutStore | undefined> {
  if (!env.REDIS_URL) return undefined;
  const [{ Redis }, { RedisRolloutStore }] = await Promise.all([
    import('ioredis'),
    import('nestjs-inference/redis'),
  ]);
  return new RedisRolloutStore(new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 }));
}
