import type { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setUnrefTimeout, timeoutSignal, type Clock } from '../client/clock.js';
import type { ProviderRegistry } from '../client/provider.registry.js';
import type { ResolvedCanaryOptions } from './canary-options.js';
import type { MergedPhase, PhaseLedger, PublishedPhase } from './phase.ledger.js';
import type { RolloutAction } from './rollout-action.error.js';
import { IDLE_STATE, isActive, type RolloutState } from './rollout-state.js';
import type { RolloutChange, RolloutMachine } from './rollout.machine.js';
import type { RolloutStore } from './rollout.store.js';

/** How many times an operator action retries a write that lost a race with another replica. */
const WRITE_ATTEMPTS = 5;

/** What the sync loop works with; the rollout facade builds them. */
export interface ReplicaSyncParts {
  options: ResolvedCanaryOptions | undefined;
  clock: Clock;
  store: RolloutStore;
  ledger: PhaseLedger;
  machine: RolloutMachine | undefined;
  providers: ProviderRegistry;
  logger: Logger;
  /** Told of each change this replica wrote that carries an event, once the ledger has it. */
  onChange: (change: RolloutChange) => Promise<void>;
}

/**
 * This replica's side of a rollout shared through the store. Every `syncIntervalMs` a round
 * reads the state into the ledger, publishes this replica's figures and, as the holder of the
 * leader lease, probes the canary while warming or judges the merged figures every interval and
 * writes the change under the lease's fence. Rounds never overlap, and waiting for one is bounded.
 * A replica whose last good read is older than `staleAfterMs` is stale.
 */
export class ReplicaSync {
  readonly #options: ResolvedCanaryOptions | undefined;
  readonly #clock: Clock;
  readonly #store: RolloutStore;
  readonly #ledger: PhaseLedger;
  readonly #machine: RolloutMachine | undefined;
  readonly #providers: ProviderRegistry;
  readonly #logger: Logger;
  readonly #onChange: (change: RolloutChange) => Promise<void>;
  readonly #replica = randomUUID();
  /** How long a replica's published figures outlive it: past any phase they could belong to. */
  readonly #metricsTtlMs: number;
  #readAt = -Infinity;
  #leaseToken: number | undefined;
  /** What this replica last published, so its own document need not be parsed back. */
  #published: PublishedPhase | undefined;
  #timer: unknown;
  /** The round running now: a new one never starts before it ends, however long it takes. */
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(parts: ReplicaSyncParts) {
    this.#options = parts.options;
    this.#clock = parts.clock;
    this.#store = parts.store;
    this.#ledger = parts.ledger;
    this.#machine = parts.machine;
    this.#providers = parts.providers;
    this.#logger = parts.logger;
    this.#onChange = parts.onChange;
    const longestPhaseMs = Math.max(
      0,
      ...(parts.options?.phases ?? []).map((phase) => phase.durationMs ?? 0),
    );
    this.#metricsTtlMs = 2 * longestPhaseMs + (parts.options?.staleAfterMs ?? 0);
  }

  /** Whether the last good read of the state is older than `staleAfterMs`. */
  get stale(): boolean {
    return (
      this.#options !== undefined && this.#clock.now() - this.#readAt > this.#options.staleAfterMs
    );
  }

  /** Whether this replica held the leader lease at its last round. */
  get leader(): boolean {
    return this.#leaseToken !== undefined;
  }

  /**
   * One round: read the state, share this replica's figures, and, as leader, probe or judge
   * when it is time. Runs on its own every `syncIntervalMs` once scheduled.
   */
  tick(): Promise<void> {
    this.#running ??= this.#round().finally(() => (this.#running = undefined));
    return this.#bounded(this.#running);
  }

  /** Runs a round every `syncIntervalMs`, each after the previous one, until `stop()`. */
  schedule(): void {
    if (this.#stopped) return;
    this.#timer = setUnrefTimeout(
      this.#clock,
      () => void this.tick().finally(() => this.schedule()),
      this.#options!.syncIntervalMs,
    );
  }

  /** Stops the loop; waits (bounded) for the round running now. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    if (this.#running) await this.#bounded(this.#running);
  }

  /**
   * Applies an operator's change to the latest state and writes it, reading again when another
   * replica wrote first. Throws what `apply` throws, or when every attempt lost its race.
   */
  async act(
    action: RolloutAction,
    apply: (state: RolloutState, now: number) => RolloutChange,
  ): Promise<void> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      this.#ledger.adopt(await this.#readState());
      if (await this.#commit(apply(this.#ledger.state, this.#clock.now()))) return;
    }
    throw new Error(
      `Rollout ${action} lost ${WRITE_ATTEMPTS} races with other replicas; try again`,
    );
  }

  /** The current phase's figures across replicas; undefined before any state was adopted. */
  async merged(): Promise<MergedPhase | undefined> {
    const local = this.#ledger.metrics;
    if (!local) return undefined;
    const documents = await this.#store.readMetrics(local.key);
    return this.#ledger.merge(local, documents, this.#published);
  }

  /**
   * Waits for a round at most `syncIntervalMs`: a store that does not answer (a Redis client
   * queueing while it reconnects) must not stop the loop. The round itself goes on, and no other
   * starts until it ends; meanwhile the state grows stale and calls go to stable.
   */
  async #bounded(round: Promise<void>): Promise<void> {
    const clock = this.#clock;
    const bound = this.#options?.syncIntervalMs ?? 0;
    let timer: unknown;
    const timedOut = new Promise<void>((resolve) => {
      timer = setUnrefTimeout(
        clock,
        () => {
          this.#logger.warn(
            `Rollout sync is taking longer than ${bound} ms; it is not started again until it ends`,
          );
          resolve();
        },
        bound,
      );
    });
    await Promise.race([round, timedOut]).finally(() => clock.clearTimeout(timer));
  }

  async #round(): Promise<void> {
    const canary = this.#options;
    if (!canary) return;
    const ledger = this.#ledger;
    try {
      ledger.adopt(await this.#readState());
      const local = ledger.metrics;
      const own = isActive(ledger.state.status) ? ledger.document() : undefined;
      if (own) {
        await this.#store.publishMetrics(own.key, this.#replica, own.document, this.#metricsTtlMs);
        this.#published = own;
      }
      if (!isActive(ledger.state.status)) return;
      this.#leaseToken = await this.#store.acquireLease(this.#replica, canary.staleAfterMs);
      if (this.#leaseToken === undefined) return;
      const now = this.#clock.now();
      if (ledger.state.status === 'warming') {
        if (ledger.state.pausedBy === undefined) await this.#probe(now);
        return;
      }
      if (now - ledger.state.evaluatedAt < canary.intervalMs) return;
      const merged = (await this.merged()) ?? { metrics: local!, scope: 'local', replicas: 1 };
      const { verdict, evaluation } = ledger.judge(merged, now);
      const change = this.#machine!.evaluated(ledger.state, verdict, now);
      // The evaluation travels with the state, so each replica reports the one decided on.
      if (change) {
        await this.#commit({ ...change, state: { ...change.state, evaluation } }, this.#leaseToken);
      }
    } catch (error) {
      this.#logger.warn(
        `Rollout sync failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** A health probe of the canary while warming; the machine decides what its result moves. */
  async #probe(now: number): Promise<void> {
    const client = this.#providers.get(this.#options!.canary, 'rollout-probe');
    const timeout = timeoutSignal(this.#clock, Math.min(this.#options!.intervalMs, 10_000));
    let change: RolloutChange | undefined;
    try {
      await client.probe(timeout.signal);
      change = this.#machine!.probed(this.#ledger.state, true, 'ok', now);
    } catch (error) {
      change = this.#machine!.probed(
        this.#ledger.state,
        false,
        error instanceof Error ? error.message : 'failed',
        now,
      );
    } finally {
      timeout.clear();
    }
    if (change) await this.#commit(change, this.#leaseToken);
  }

  /** Writes a change (under `fence`, the leader's); on success the ledger adopts it. */
  async #commit(change: RolloutChange, fence?: number): Promise<boolean> {
    if (!(await this.#store.write(change.state, fence))) return false;
    this.#ledger.adopt(change.state);
    if (change.event) await this.#onChange(change);
    return true;
  }

  async #readState(): Promise<RolloutState> {
    const state = (await this.#store.read()) ?? IDLE_STATE;
    this.#readAt = this.#clock.now();
    return state;
  }
}
