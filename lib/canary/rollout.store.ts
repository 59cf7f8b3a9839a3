import type { RolloutState } from './rollout-state.js';

/**
 * Where a rollout's state and metrics live. In memory for one replica (the default); in Redis
 * (`nestjs-inference/redis`) for several, which then share one rollout. Given as the option
 * `canary.store`, or provided under `ROLLOUT_STORE`.
 */
export interface RolloutStore {
  /** The current state; undefined when no rollout was ever stored. */
  read(): Promise<RolloutState | undefined>;
  /**
   * Writes `next` if the stored version is still `next.version - 1` (compare-and-set), and, when
   * `fence` is given, if that fencing token still holds the leader lease. Resolves false otherwise.
   */
  write(next: RolloutState, fence?: number): Promise<boolean>;
  /**
   * Takes or renews the leader lease for `owner`. Resolves with the lease's fencing token while
   * `owner` holds it (a new, larger token on each new holder), undefined when another does.
   */
  acquireLease(owner: string, ttlMs: number): Promise<number | undefined>;
  /** Stores one replica's metrics of a phase (a JSON document), replacing its previous ones. */
  publishMetrics(phaseKey: string, owner: string, metrics: string, ttlMs: number): Promise<void>;
  /** Every replica's metrics of a phase. */
  readMetrics(phaseKey: string): Promise<string[]>;
}

/**
 * Injection token of the rollout's store: provide a `RolloutStore` under it (the module extra
 * `rolloutStore`, a module given to `forRootAsync({ imports })`, or a global module) to replace
 * the in-memory default. The option `canary.store`, when set, wins over it.
 */
export const ROLLOUT_STORE = Symbol('nestjs-inference:rollout-store');

const KEPT_PHASES = 16;

/** One replica's store: state and metrics in this process. */
export class MemoryRolloutStore implements RolloutStore {
  #state: RolloutState | undefined;
  #lease: { owner: string; token: number; until: number } | undefined;
  #tokens = 0;
  readonly #metrics = new Map<string, Map<string, string>>();

  constructor(private readonly now: () => number = Date.now) {}

  async read(): Promise<RolloutState | undefined> {
    return this.#state && { ...this.#state };
  }

  async write(next: RolloutState, fence?: number): Promise<boolean> {
    if (next.version !== (this.#state?.version ?? 0) + 1) return false;
    if (fence !== undefined && (this.#lease?.token !== fence || this.#lease.until < this.now())) {
      return false;
    }
    this.#state = { ...next };
    return true;
  }

  async acquireLease(owner: string, ttlMs: number): Promise<number | undefined> {
    const now = this.now();
    if (this.#lease && this.#lease.owner !== owner && this.#lease.until >= now) return undefined;
    if (!this.#lease || this.#lease.owner !== owner || this.#lease.until < now) {
      this.#lease = { owner, token: ++this.#tokens, until: now + ttlMs };
    } else {
      this.#lease.until = now + ttlMs;
    }
    return this.#lease.token;
  }

  async publishMetrics(phaseKey: string, owner: string, metrics: string): Promise<void> {
    let replicas = this.#metrics.get(phaseKey);
    if (!replicas) {
      this.#metrics.set(phaseKey, (replicas = new Map()));
      // Only recent phases are read; keep the map bounded over many rollouts.
      if (this.#metrics.size > KEPT_PHASES)
        this.#metrics.delete(this.#metrics.keys().next().value!);
    }
    replicas.set(owner, metrics);
  }

  async readMetrics(phaseKey: string): Promise<string[]> {
    return [...(this.#metrics.get(phaseKey)?.values() ?? [])];
  }
}
