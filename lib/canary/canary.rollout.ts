import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ProviderRegistry } from '../client/provider.registry.js';
import { INFERENCE_OPTIONS } from '../inference.constants.js';
import type { CanaryModuleOptions, ResolvedCanaryOptions } from './canary-options.js';
import { PhaseLedger, type PhaseFigures, type RecordedCall } from './phase.ledger.js';
import { ReplicaSync } from './replica.sync.js';
import { RolloutActionError, type RolloutAction } from './rollout-action.error.js';
import type { RolloutEvent, RolloutListener } from './rollout-events.js';
import type { RolloutReport } from './rollout-report.js';
import { isActive, type RolloutState } from './rollout-state.js';
import { chooseRolloutStore } from './rollout-store.choice.js';
import { RolloutMachine, type RolloutChange } from './rollout.machine.js';
import { ROLLOUT_STORE, type RolloutStore } from './rollout.store.js';
import { RolloutWebhook } from './rollout.webhook.js';
import type { ShadowMetrics } from './shadow-metrics.js';
import { SideMetrics } from './side-metrics.js';

/**
 * The rollout as this replica runs it, and what operators call: start, pause, resume, advance,
 * roll back, promote, report, figures, subscribe, feedback. It composes the phase ledger (the
 * state it routes by and the current phase's figures) and the replica sync loop (which shares
 * both with the store every `syncIntervalMs`). The replica holding the leader lease judges each
 * interval and moves the rollout; operator actions work from any replica. A replica that cannot
 * read fresh state sends every call to the stable provider.
 */
@Injectable()
export class CanaryRollout implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly #logger = new Logger('CanaryRollout');
  readonly #options: ResolvedCanaryOptions | undefined;
  readonly #machine: RolloutMachine | undefined;
  readonly #webhook: RolloutWebhook | undefined;
  readonly #listeners = new Set<RolloutListener>();
  readonly #ledger: PhaseLedger;
  readonly #sync: ReplicaSync;

  /** `store`: the one provided under `ROLLOUT_STORE`, if any; `canary.store` wins over it. */
  constructor(
    @Inject(INFERENCE_OPTIONS) private readonly options: CanaryModuleOptions,
    providers: ProviderRegistry,
    @Optional() @Inject(ROLLOUT_STORE) store?: RolloutStore,
  ) {
    const canary = options.canary;
    this.#options = canary;
    const chosen = chooseRolloutStore(canary?.store, store, options.clock);
    if (canary) {
      if (chosen.ignored) this.#logger.warn(chosen.ignored);
      this.#machine = new RolloutMachine(canary);
      this.#webhook =
        canary.webhook && new RolloutWebhook(canary.webhook, this.#logger, options.clock);
    }
    this.#ledger = new PhaseLedger(canary, options.clock, (reason) => this.#onFastFail(reason));
    this.#sync = new ReplicaSync({
      options: canary,
      clock: options.clock,
      store: chosen.store,
      ledger: this.#ledger,
      machine: this.#machine,
      providers,
      logger: this.#logger,
      onChange: (change) => this.#emit(change),
    });
  }

  /** The rollout's configuration, when one is configured. */
  get settings(): ResolvedCanaryOptions | undefined {
    return this.#options;
  }

  /** The state this replica routes by. */
  get state(): Readonly<RolloutState> {
    return this.#ledger.state;
  }

  /**
   * The canary's share in basis points for routing now: 0 when idle, rolled back, stale or
   * fast-failed here; 10,000 once promoted.
   */
  get weightBps(): number {
    const state = this.#ledger.state;
    if (state.status === 'idle' || state.status === 'rolled_back') return 0;
    if (this.stale || this.#ledger.fastFailed) return 0;
    return state.weightBps;
  }

  /**
   * Whether an override header may force a side now: only while the rollout is under way with
   * fresh state, and never once the canary failed fast here.
   */
  get overridable(): boolean {
    return isActive(this.#ledger.state.status) && !this.stale && !this.#ledger.fastFailed;
  }

  get stale(): boolean {
    return this.#sync.stale;
  }

  /**
   * The stable side's share mirrored to the canary now, in basis points: the phase's `shadow`
   * while the rollout progresses on fresh state; 0 otherwise (paused, stale, fast-failed).
   */
  get shadowBps(): number {
    const state = this.#ledger.state;
    if (state.status !== 'progressing' && state.status !== 'hold') return 0;
    if (this.stale || this.#ledger.fastFailed) return 0;
    return this.#options?.phases[state.phase]?.shadowBps ?? 0;
  }

  /** The shadow figures of the phase `phaseKey`, while it is the current one. */
  shadowMetrics(phaseKey: string | undefined): ShadowMetrics | undefined {
    return this.#ledger.shadowMetrics(phaseKey);
  }

  /**
   * Business feedback on a call: attached to the side that served it, in the phase it was served
   * in. False when the call is unknown (not routed by the rollout, too old, or a fallback), its
   * phase is over, or the value is not a finite number or a boolean.
   */
  feedback(requestId: string, name: string, value: number | boolean): boolean {
    return this.#ledger.feedback(requestId, name, value);
  }

  /** The key figures of the current phase are filed under; undefined when calls are not judged. */
  get phaseKey(): string | undefined {
    return this.#ledger.phaseKey;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.#options) return;
    await this.tick();
    const state = this.#ledger.state;
    if (this.#options.autoStart && !isActive(state.status) && state.status !== 'promoted') {
      if (state.status === 'idle') {
        await this.start().catch((error: unknown) =>
          this.#logger.warn(`Rollout did not start at boot: ${String(error)}`),
        );
      } else {
        this.#logger.log(
          `Rollout ${state.rolloutId} is ${state.status}; not starting another at boot`,
        );
      }
    }
    this.#sync.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.#sync.stop();
    await this.#webhook?.close();
  }

  /** Called for every transition this replica makes. Returns the way to unsubscribe. */
  subscribe(listener: RolloutListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Records one routed call in the figures of the phase it was routed in. O(1), no allocation.
   * A call the caller cancelled, or whose request was at fault, is not judged (its cost counts).
   * A fallback is not part of the stable cohort: it serves a failed canary call, so its cost is
   * the canary's, and when it succeeds after the canary refused the request with a 4xx, the
   * canary is counted incompatible.
   */
  record(
    side: 'stable' | 'canary',
    phaseKey: string | undefined,
    error: unknown,
    latencyMs: number,
    costUsd = 0,
    call?: RecordedCall,
  ): void {
    this.#ledger.record(side, phaseKey, error, latencyMs, costUsd, call);
  }

  /** A canary-side call served by stable because its model has no equivalent on the canary. */
  recordIneligible(phaseKey: string | undefined): void {
    this.#ledger.recordIneligible(phaseKey);
  }

  /**
   * One round: read the state, share this replica's figures, and, as leader, probe or judge
   * when it is time. Runs on its own every `syncIntervalMs`; tests call it directly.
   */
  tick(): Promise<void> {
    return this.#sync.tick();
  }

  start(options: { salt?: string } = {}): Promise<RolloutReport> {
    const rolloutId = randomUUID();
    const salt = options.salt ?? this.#options?.salt ?? rolloutId;
    return this.#act('start', (machine, state, now) => machine.start(state, rolloutId, salt, now));
  }

  pause(reason = 'paused by an operator'): Promise<RolloutReport> {
    return this.#act('pause', (machine, state, now) => machine.pause(state, reason, now));
  }

  resume(reason = 'resumed by an operator'): Promise<RolloutReport> {
    return this.#act('resume', (machine, state, now) => machine.resume(state, reason, now));
  }

  advance(reason = 'advanced by an operator'): Promise<RolloutReport> {
    return this.#act('advance', (machine, state, now) => machine.advance(state, reason, now));
  }

  rollback(reason = 'rolled back by an operator'): Promise<RolloutReport> {
    return this.#act('rollback', (machine, state, now) => machine.rollback(state, reason, now));
  }

  promote(reason = 'promoted by an operator'): Promise<RolloutReport> {
    return this.#act('promote', (machine, state, now) => machine.promote(state, reason, now));
  }

  /**
   * The rollout now: its state, and the judge's last evaluation (verdict and the figures it was
   * decided on, merged across replicas or marked local), the same on every replica.
   */
  async report(): Promise<RolloutReport> {
    return this.#report();
  }

  /** The current phase's figures so far, not yet judged: merged across replicas, or local. */
  async figures(): Promise<PhaseFigures> {
    const merged = await this.#sync.merged().catch(() => undefined);
    return this.#ledger.figures(merged);
  }

  async #act(
    action: RolloutAction,
    apply: (machine: RolloutMachine, state: RolloutState, now: number) => RolloutChange,
  ): Promise<RolloutReport> {
    const machine = this.#machine;
    if (!machine) {
      throw new RolloutActionError(
        action,
        'idle',
        'no canary is configured (set the module option canary).',
      );
    }
    await this.#sync.act(action, (state, now) => apply(machine, state, now));
    return this.report();
  }

  /** The fast-fail rule fired here: roll back at once, from this replica. */
  #onFastFail(reason: string): void {
    this.#logger.warn(`Rolling back the canary at once: ${reason}`);
    this.rollback(reason).catch((error: unknown) =>
      this.#logger.error(
        `Fast-fail rollback could not be stored (${String(error)}); this replica sends every call to stable`,
      ),
    );
  }

  async #emit(change: RolloutChange): Promise<void> {
    const event: RolloutEvent = {
      type: change.event!.type,
      from: change.event!.from,
      to: change.state.status,
      reason: change.event!.reason,
      at: change.state.changedAt,
      report: this.#report(),
    };
    const log = event.type === 'rolled_back' || event.type === 'paused' ? 'warn' : 'log';
    this.#logger[log](
      `Rollout ${event.type}: ${event.from} → ${event.to}, canary at ${event.report.weightPercent}% (${event.reason})`,
    );
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.error(`A rollout listener threw: ${String(error)}`);
      }
    }
    this.#webhook?.send(event);
  }

  #report(): RolloutReport {
    const state = this.#ledger.state;
    const evaluation = state.evaluation;
    const empty = new SideMetrics().figures();
    return {
      status: state.status,
      rolloutId: state.rolloutId,
      stable: this.#options?.stable ?? this.options.defaultProvider,
      canary: this.#options?.canary ?? '',
      phase: state.phase < 0 ? null : state.phase + 1,
      phases: this.#options?.phases.length ?? 0,
      weightPercent: this.weightBps / 100,
      reason: state.reason,
      changedAt: state.changedAt,
      stale: this.stale,
      leader: this.#sync.leader,
      sides: evaluation?.sides ?? { stable: empty, canary: empty },
      shadow: evaluation?.shadow && { ...evaluation.shadow, shadowPercent: this.shadowBps / 100 },
      lastVerdict: evaluation && {
        kind: evaluation.kind,
        reasons: evaluation.reasons,
        at: evaluation.at,
      },
      evaluation: evaluation && {
        at: evaluation.at,
        phase: evaluation.phase + 1,
        scope: evaluation.scope,
        replicas: evaluation.replicas,
      },
    };
  }
}
