import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setUnrefTimeout, timeoutSignal } from '../client/clock.js';
import { ProviderRegistry } from '../client/provider.registry.js';
import { INFERENCE_OPTIONS } from '../inference.constants.js';
import { faultOf, type CallerBudgets } from '../errors/index.js';
import { INCOMPATIBLE, outcomeOf, SUCCESS } from './call-outcome.js';
import type { CanaryModuleOptions, ResolvedCanaryOptions } from './canary-options.js';
import { FastFailWindow } from './fast-fail.window.js';
import { judge, zScore, type JudgeCriteria, type Verdict } from './judge.js';
import { judgeShadow } from './shadow-gate.js';
import { ShadowMetrics, type ShadowFigures, type ShadowSnapshot } from './shadow-metrics.js';
import { RolloutActionError, type RolloutAction } from './rollout-action.error.js';
import type { RolloutEvent, RolloutListener } from './rollout-events.js';
import type { RolloutReport } from './rollout-report.js';
import {
  IDLE_STATE,
  isActive,
  type RolloutEvaluation,
  type RolloutState,
} from './rollout-state.js';
import { MemoryRolloutStore, type RolloutStore } from './rollout.store.js';
import { RolloutMachine, type RolloutChange } from './rollout.machine.js';
import { RolloutWebhook } from './rollout.webhook.js';
import {
  SideMetrics,
  type CallFacts,
  type SideFigures,
  type SideSnapshot,
} from './side-metrics.js';

/** How many times an operator action retries a write that lost a race with another replica. */
const WRITE_ATTEMPTS = 5;

interface PhaseMetrics {
  key: string;
  stable: SideMetrics;
  canary: SideMetrics;
  shadow: ShadowMetrics;
}

interface PhaseDocument {
  stable: SideSnapshot;
  canary: SideSnapshot;
  shadow?: ShadowSnapshot;
}

/** A phase's figures as this replica can see them: every replica's added up, or its own. */
export interface PhaseFigures {
  scope: 'merged' | 'local';
  replicas: number;
  stable: SideFigures;
  canary: SideFigures;
  shadow: ShadowFigures;
}

/** What the service tells the rollout of a call, besides its outcome. */
export interface RecordedCall extends CallFacts {
  /** The call's own budgets: running out of one is the caller's deadline, not a provider fault. */
  callerBudgets?: CallerBudgets;
  /** Set on the stable call that serves a failed canary call: that call's error. */
  fallbackFrom?: { error: unknown };
}

/**
 * The rollout as this replica runs it: the state it routes by, the figures of the current phase,
 * and a loop that syncs both with the store every `syncIntervalMs`. The replica holding the
 * leader lease judges each interval and moves the rollout; operator actions work from any
 * replica. A replica that cannot read fresh state sends every call to the stable provider.
 */
@Injectable()
export class CanaryRollout implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly #logger = new Logger('CanaryRollout');
  readonly #options: ResolvedCanaryOptions | undefined;
  readonly #store: RolloutStore;
  readonly #machine: RolloutMachine | undefined;
  readonly #criteria: JudgeCriteria | undefined;
  readonly #fastFail: FastFailWindow | undefined;
  readonly #webhook: RolloutWebhook | undefined;
  readonly #listeners = new Set<RolloutListener>();
  readonly #replica = randomUUID();
  /** How long a replica's published figures outlive it: past any phase they could belong to. */
  readonly #metricsTtlMs: number;
  #state: RolloutState = IDLE_STATE;
  #metrics: PhaseMetrics | undefined;
  #readAt = -Infinity;
  #leaseToken: number | undefined;
  /** What this replica last published, so its own document need not be parsed back. */
  #published: { key: string; document: string } | undefined;
  /** Set when the fast-fail rule fired here: the canary gets nothing until the state says so. */
  #fastFailedRollout: string | undefined;
  #timer: unknown;
  /** The round running now: a new one never starts before it ends, however long it takes. */
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Recent calls by request id: the side and phase that served them, for business feedback. */
  readonly #served = new Map<string, { side: 'stable' | 'canary'; key: string }>();

  constructor(
    @Inject(INFERENCE_OPTIONS) private readonly options: CanaryModuleOptions,
    private readonly providers: ProviderRegistry,
  ) {
    this.#options = options.canary;
    const canary = this.#options;
    this.#store = canary?.store ?? new MemoryRolloutStore(() => options.clock.now());
    const longestPhaseMs = Math.max(
      0,
      ...(canary?.phases ?? []).map((phase) => phase.durationMs ?? 0),
    );
    this.#metricsTtlMs = 2 * longestPhaseMs + (canary?.staleAfterMs ?? 0);
    if (canary) {
      this.#machine = new RolloutMachine(canary);
      this.#criteria = {
        minSamples: canary.minSamples,
        ...canary.thresholds,
        feedback: canary.feedback,
      };
      this.#fastFail = canary.fastFail && new FastFailWindow(canary.fastFail);
      this.#webhook =
        canary.webhook && new RolloutWebhook(canary.webhook, this.#logger, options.clock);
    }
  }

  /** The rollout's configuration, when one is configured. */
  get settings(): ResolvedCanaryOptions | undefined {
    return this.#options;
  }

  /** The state this replica routes by. */
  get state(): Readonly<RolloutState> {
    return this.#state;
  }

  /**
   * The canary's share in basis points for routing now: 0 when idle, rolled back, stale or
   * fast-failed here; 10,000 once promoted.
   */
  get weightBps(): number {
    const state = this.#state;
    if (state.status === 'idle' || state.status === 'rolled_back') return 0;
    if (this.stale || this.#fastFailedRollout === state.rolloutId) return 0;
    return state.weightBps;
  }

  /**
   * Whether an override header may force a side now: only while the rollout is under way with
   * fresh state, and never once the canary failed fast here.
   */
  get overridable(): boolean {
    const state = this.#state;
    return isActive(state.status) && !this.stale && this.#fastFailedRollout !== state.rolloutId;
  }

  get stale(): boolean {
    return (
      this.#options !== undefined &&
      this.options.clock.now() - this.#readAt > this.#options.staleAfterMs
    );
  }

  /**
   * The stable side's share mirrored to the canary now, in basis points: the phase's `shadow`
   * while the rollout progresses on fresh state; 0 otherwise (paused, stale, fast-failed).
   */
  get shadowBps(): number {
    const state = this.#state;
    if (state.status !== 'progressing' && state.status !== 'hold') return 0;
    if (this.stale || this.#fastFailedRollout === state.rolloutId) return 0;
    return this.#options?.phases[state.phase]?.shadowBps ?? 0;
  }

  /** The shadow figures of the phase `phaseKey`, while it is the current one. */
  shadowMetrics(phaseKey: string | undefined): ShadowMetrics | undefined {
    const metrics = this.#metrics;
    return phaseKey !== undefined && metrics?.key === phaseKey ? metrics.shadow : undefined;
  }

  /**
   * Business feedback on a call: attached to the side that served it, in the phase it was served
   * in. False when the call is unknown (not routed by the rollout, too old, or a fallback), its
   * phase is over, or the value is not a finite number or a boolean.
   */
  feedback(requestId: string, name: string, value: number | boolean): boolean {
    const served = this.#served.get(requestId);
    const number = typeof value === 'boolean' ? Number(value) : value;
    if (!served || typeof name !== 'string' || name === '' || !Number.isFinite(number))
      return false;
    const metrics = this.#metrics;
    if (metrics?.key !== served.key) return false;
    return metrics[served.side].addFeedback(name, number);
  }

  /** The key figures of the current phase are filed under; undefined when calls are not judged. */
  get phaseKey(): string | undefined {
    return isActive(this.#state.status) ? this.#metrics?.key : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.#options) return;
    await this.tick();
    if (
      this.#options.autoStart &&
      !isActive(this.#state.status) &&
      this.#state.status !== 'promoted'
    ) {
      if (this.#state.status === 'idle') {
        await this.start().catch((error: unknown) =>
          this.#logger.warn(`Rollout did not start at boot: ${String(error)}`),
        );
      } else {
        this.#logger.log(
          `Rollout ${this.#state.rolloutId} is ${this.#state.status}; not starting another at boot`,
        );
      }
    }
    this.#schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.#stopped = true;
    this.options.clock.clearTimeout(this.#timer);
    if (this.#running) await this.#bounded(this.#running);
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
    const metrics = this.#metrics;
    if (phaseKey === undefined || metrics?.key !== phaseKey) return;
    if (call?.fallbackFrom) {
      metrics.canary.addCost(costUsd);
      if (error === undefined && faultOf(call.fallbackFrom.error) === 'client') {
        metrics.canary.record(INCOMPATIBLE, 0);
      }
      return;
    }
    const outcome = outcomeOf(error, call?.callerBudgets);
    if (outcome === undefined) {
      metrics[side].addCost(costUsd);
      return;
    }
    metrics[side].record(outcome, latencyMs, costUsd, call);
    if (call?.requestId !== undefined && outcome === SUCCESS)
      this.#remember(call.requestId, side, phaseKey);
    if (
      side === 'canary' &&
      this.#fastFail?.record(outcome !== SUCCESS, this.options.clock.now())
    ) {
      this.#onFastFail();
    }
  }

  /** Keeps a bounded map of recent calls (oldest forgotten first). */
  #remember(requestId: string, side: 'stable' | 'canary', key: string): void {
    const served = this.#served;
    served.delete(requestId);
    served.set(requestId, { side, key });
    if (served.size > this.#options!.feedback.maxTracked)
      served.delete(served.keys().next().value!);
  }

  /** A canary-side call served by stable because its model has no equivalent on the canary. */
  recordIneligible(phaseKey: string | undefined): void {
    if (phaseKey !== undefined && this.#metrics?.key === phaseKey)
      this.#metrics.canary.addIneligible();
  }

  /**
   * One round: read the state, share this replica's figures, and, as leader, probe or judge
   * when it is time. Runs on its own every `syncIntervalMs`; tests call it directly.
   */
  tick(): Promise<void> {
    this.#running ??= this.#tick().finally(() => (this.#running = undefined));
    return this.#bounded(this.#running);
  }

  /**
   * Waits for a round at most `syncIntervalMs`: a store that does not answer (a Redis client
   * queueing while it reconnects) must not stop the loop. The round itself goes on, and no other
   * starts until it ends; meanwhile the state grows stale and calls go to stable.
   */
  async #bounded(round: Promise<void>): Promise<void> {
    const clock = this.options.clock;
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

  start(options: { salt?: string } = {}): Promise<RolloutReport> {
    const rolloutId = randomUUID();
    const salt = options.salt ?? this.#options?.salt ?? rolloutId;
    return this.#act('start', (state, now) => this.#machine!.start(state, rolloutId, salt, now));
  }

  pause(reason = 'paused by an operator'): Promise<RolloutReport> {
    return this.#act('pause', (state, now) => this.#machine!.pause(state, reason, now));
  }

  resume(reason = 'resumed by an operator'): Promise<RolloutReport> {
    return this.#act('resume', (state, now) => this.#machine!.resume(state, reason, now));
  }

  advance(reason = 'advanced by an operator'): Promise<RolloutReport> {
    return this.#act('advance', (state, now) => this.#machine!.advance(state, reason, now));
  }

  rollback(reason = 'rolled back by an operator'): Promise<RolloutReport> {
    return this.#act('rollback', (state, now) => this.#machine!.rollback(state, reason, now));
  }

  promote(reason = 'promoted by an operator'): Promise<RolloutReport> {
    return this.#act('promote', (state, now) => this.#machine!.promote(state, reason, now));
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
    const merged = await this.#mergedMetrics().catch(() => undefined);
    const metrics = merged?.metrics ?? this.#metrics;
    const empty = new SideMetrics();
    return {
      scope: merged?.scope ?? 'local',
      replicas: merged?.replicas ?? 1,
      stable: (metrics?.stable ?? empty).figures(this.#options?.thresholds.maxP99Ms),
      canary: (metrics?.canary ?? empty).figures(this.#options?.thresholds.maxP99Ms),
      shadow: (metrics?.shadow ?? new ShadowMetrics()).figures(this.#z),
    };
  }

  /** The two-sided z of the shadow figures' intervals, at the judge's confidence. */
  get #z(): number {
    return zScore(1 - (1 - (this.#options?.thresholds.confidence ?? 0.99)) / 2);
  }

  /** A shadow phase (no user on the canary) is judged by its gate; the others by the judge. */
  #verdict(metrics: PhaseMetrics): Verdict {
    const canary = this.#options!;
    const phase = canary.phases[this.#state.phase];
    if (phase && phase.weightBps === 0) {
      if (!canary.shadow.gate) {
        return {
          kind: 'pass',
          reasons: ['shadow phase: comparisons are reported, no gate is set'],
        };
      }
      const z = zScore(canary.thresholds.confidence);
      return judgeShadow(metrics.shadow, canary.shadow.gate, this.#criteria!, z);
    }
    return judge(metrics.canary, metrics.stable, this.#criteria!);
  }

  async #tick(): Promise<void> {
    const canary = this.#options;
    if (!canary) return;
    try {
      this.#adopt(await this.#readState());
      const metrics = this.#metrics;
      if (metrics && isActive(this.#state.status)) {
        const document = JSON.stringify(snapshotOf(metrics));
        await this.#store.publishMetrics(metrics.key, this.#replica, document, this.#metricsTtlMs);
        this.#published = { key: metrics.key, document };
      }
      if (!isActive(this.#state.status)) return;
      this.#leaseToken = await this.#store.acquireLease(this.#replica, canary.staleAfterMs);
      if (this.#leaseToken === undefined) return;
      const now = this.options.clock.now();
      if (this.#state.status === 'warming') {
        if (this.#state.pausedBy === undefined) await this.#probe(now);
        return;
      }
      if (now - this.#state.evaluatedAt < canary.intervalMs) return;
      const merged = (await this.#mergedMetrics()) ?? {
        metrics: metrics!,
        scope: 'local' as const,
        replicas: 1,
      };
      const verdict = this.#verdict(merged.metrics);
      const evaluation: RolloutEvaluation = {
        at: now,
        phase: this.#state.phase,
        kind: verdict.kind,
        reasons: verdict.reasons,
        scope: merged.scope,
        replicas: merged.replicas,
        sides: {
          stable: merged.metrics.stable.figures(canary.thresholds.maxP99Ms),
          canary: merged.metrics.canary.figures(canary.thresholds.maxP99Ms),
        },
        // Only a phase that mirrors has comparisons to report.
        ...(canary.phases[this.#state.phase]?.shadowBps
          ? { shadow: merged.metrics.shadow.figures(this.#z) }
          : {}),
      };
      const change = this.#machine!.evaluated(this.#state, verdict, now);
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

  async #probe(now: number): Promise<void> {
    const client = this.providers.get(this.#options!.canary, 'rollout-probe');
    const timeout = timeoutSignal(this.options.clock, Math.min(this.#options!.intervalMs, 10_000));
    let change: RolloutChange | undefined;
    try {
      await client.probe(timeout.signal);
      change = this.#machine!.probed(this.#state, true, 'ok', now);
    } catch (error) {
      change = this.#machine!.probed(
        this.#state,
        false,
        error instanceof Error ? error.message : 'failed',
        now,
      );
    } finally {
      timeout.clear();
    }
    if (change) await this.#commit(change, this.#leaseToken);
  }

  async #act(
    action: RolloutAction,
    apply: (state: RolloutState, now: number) => RolloutChange,
  ): Promise<RolloutReport> {
    if (!this.#machine) {
      throw new RolloutActionError(
        action,
        'idle',
        'no canary is configured (set the module option canary).',
      );
    }
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      this.#adopt(await this.#readState());
      if (await this.#commit(apply(this.#state, this.options.clock.now()))) return this.report();
    }
    throw new Error(
      `Rollout ${action} lost ${WRITE_ATTEMPTS} races with other replicas; try again`,
    );
  }

  /** Writes a change; on success adopts it and tells the listeners. */
  async #commit(change: RolloutChange, fence?: number): Promise<boolean> {
    if (!(await this.#store.write(change.state, fence))) return false;
    this.#adopt(change.state);
    if (change.event) await this.#emit(change);
    return true;
  }

  async #readState(): Promise<RolloutState> {
    const state = (await this.#store.read()) ?? IDLE_STATE;
    this.#readAt = this.options.clock.now();
    return state;
  }

  /** Takes a state as this replica's; a new rollout or phase starts new figures. */
  #adopt(state: RolloutState): void {
    this.#state = state;
    const key = `${state.rolloutId}:${state.phase}`;
    if (this.#metrics?.key !== key) {
      this.#metrics = {
        key,
        stable: new SideMetrics(),
        canary: new SideMetrics(),
        shadow: new ShadowMetrics(),
      };
      this.#fastFail?.reset();
    }
  }

  #onFastFail(): void {
    const rolloutId = this.#state.rolloutId;
    if (this.#fastFailedRollout === rolloutId) return;
    this.#fastFailedRollout = rolloutId;
    const reason = `fast-fail: ${this.#fastFail!.describe(this.options.clock.now())}`;
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

  async #mergedMetrics(): Promise<
    { metrics: PhaseMetrics; scope: 'merged' | 'local'; replicas: number } | undefined
  > {
    const local = this.#metrics;
    if (!local) return undefined;
    const documents = await this.#store.readMetrics(local.key);
    if (documents.length === 0) return { metrics: local, scope: 'local', replicas: 1 };
    const published = this.#published;
    if (
      documents.length === 1 &&
      published?.key === local.key &&
      documents[0] === published.document
    ) {
      // Only this replica's figures are in the store: nothing to add to them.
      return { metrics: local, scope: 'merged', replicas: 1 };
    }
    const merged: PhaseMetrics = {
      key: local.key,
      stable: new SideMetrics(),
      canary: new SideMetrics(),
      shadow: new ShadowMetrics(),
    };
    for (const document of documents) {
      const snapshot = JSON.parse(document) as PhaseDocument;
      merged.stable.merge(snapshot.stable);
      merged.canary.merge(snapshot.canary);
      if (snapshot.shadow) merged.shadow.merge(snapshot.shadow);
    }
    return { metrics: merged, scope: 'merged', replicas: documents.length };
  }

  #report(): RolloutReport {
    const state = this.#state;
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
      leader: this.#leaseToken !== undefined,
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

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setUnrefTimeout(
      this.options.clock,
      () => void this.tick().finally(() => this.#schedule()),
      this.#options!.syncIntervalMs,
    );
  }
}

function snapshotOf(metrics: PhaseMetrics): PhaseDocument {
  const document: PhaseDocument = {
    stable: metrics.stable.snapshot(),
    canary: metrics.canary.snapshot(),
  };
  // Only phases that mirrored publish shadow figures: the document stays as small as before.
  if (metrics.shadow.pairs > 0 || metrics.shadow.canary.calls > 0) {
    document.shadow = metrics.shadow.snapshot();
  }
  return document;
}
