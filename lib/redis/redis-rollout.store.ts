import type { Redis } from 'ioredis';
import type { RolloutState } from '../canary/rollout-state.js';
import type { RolloutStore } from '../canary/rollout.store.js';

/** Compare-and-set of the state; with a fence, only while that token holds the lease. */
const WRITE = `
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[1]) - 1 then return 0 end
if ARGV[3] ~= '' then
  local lease = redis.call('GET', KEYS[2])
  if not lease or string.match(lease, '|(%d+)$') ~= ARGV[3] then return 0 end
end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'state', ARGV[2])
return 1`;

/** Takes the lease when free (with a new fencing token) or renews it for its holder. */
const LEASE = `
local lease = redis.call('GET', KEYS[1])
if lease then
  local owner, token = string.match(lease, '^(.*)|(%d+)$')
  if owner ~= ARGV[1] then return false end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(token)
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return token`;

export interface RedisRolloutStoreOptions {
  /** Prefix of every key; one rollout per prefix. Default `nestjs-inference:rollout:`. */
  prefix?: string;
}

/**
 * A rollout shared by every replica through Redis: the state is versioned (compare-and-set), the
 * leader lease carries a fencing token that every leader write is checked against, and each
 * replica's figures of a phase sit in one hash, merged by the leader. Pass a connected `ioredis`
 * client; the store never closes it.
 */
export class RedisRolloutStore implements RolloutStore {
  readonly #prefix: string;

  constructor(
    private readonly redis: Redis,
    options: RedisRolloutStoreOptions = {},
  ) {
    this.#prefix = options.prefix ?? 'nestjs-inference:rollout:';
  }

  async read(): Promise<RolloutState | undefined> {
    const state = await this.redis.hget(`${this.#prefix}state`, 'state');
    return state === null ? undefined : (JSON.parse(state) as RolloutState);
  }

  async write(next: RolloutState, fence?: number): Promise<boolean> {
    const written = await this.redis.eval(
      WRITE,
      2,
      `${this.#prefix}state`,
      `${this.#prefix}lease`,
      String(next.version),
      JSON.stringify(next),
      fence === undefined ? '' : String(fence),
    );
    return written === 1;
  }

  async acquireLease(owner: string, ttlMs: number): Promise<number | undefined> {
    const token = await this.redis.eval(
      LEASE,
      2,
      `${this.#prefix}lease`,
      `${this.#prefix}fence`,
      owner,
      String(Math.ceil(ttlMs)),
    );
    return typeof token === 'number' ? token : undefined;
  }

  async publishMetrics(
    phaseKey: string,
    owner: string,
    metrics: string,
    ttlMs: number,
  ): Promise<void> {
    const key = `${this.#prefix}metrics:${phaseKey}`;
    await this.redis.multi().hset(key, owner, metrics).pexpire(key, Math.ceil(ttlMs)).exec();
  }

  async readMetrics(phaseKey: string): Promise<string[]> {
    return this.redis.hvals(`${this.#prefix}metrics:${phaseKey}`);
  }
}
