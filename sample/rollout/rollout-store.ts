import type { RolloutStore } from 'nestjs-inference/canary';

/**
 * With `REDIS_URL`, replicas share one rollout through Redis; without it, each keeps its own in
 * memory (fine for one replica). `ioredis` is loaded only when it is used.
 */
export async function rolloutStoreFrom(
  redisUrl: string | undefined,
): Promise<RolloutStore | undefined> {
  if (!redisUrl) return undefined;
  const [{ Redis }, { RedisRolloutStore }] = await Promise.all([
    import('ioredis'),
    import('nestjs-inference/redis'),
  ]);
  return new RedisRolloutStore(new Redis(redisUrl, { maxRetriesPerRequest: 1 }));
}
