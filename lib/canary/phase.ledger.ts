import type { Clock } from '../client/clock.js';
import { faultOf, type CallerBudgets } from '../errors/index.js';
import { INCOMPATIBLE, outcomeOf, SUCCESS } from './call-outcome.js';
import type { ResolvedCanaryOptions } from './canary-options.js';
import { FastFailWindow } from './fast-fail.window.js';
import { judge, zScore, type JudgeCriteria, type Verdict } from './judge.js';
import {
  IDLE_STATE,
  isActive,
  type RolloutEvaluation,
  type RolloutState,
} from './rollout-state.js';
import { judgeShadow } from './shadow-gate.js';
import { ShadowMetrics, type ShadowFigures, type ShadowSnapshot } from './shadow-metrics.js';
import {
  SideMetrics,
  type CallFacts,
  type SideFigures,
  type SideSnapshot,
} from './side-metrics.js';

/** The figures of one phase, filed under its key (`rolloutId:phase`). */
export interface PhaseMetrics {
  key: string;
  stable: SideMetrics;
  canary: SideMetrics;
  shadow: ShadowMetrics;
}

/** A phase's figures as the judge sees them: every replica's added up, or this one's own. */
export interface MergedPhase {
  metrics: PhaseMetrics;
  scope: 'merged' | 'local';
  replicas: number;
}

/** What this replica last published of a phase, so its own document need not be parsed back. */
export interface PublishedPhase {
  key: string;
  document: string;
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
 * The rollout as this replica knows it: the state it routes by, and the current phase's figures
 * (what each call records, what merges with the other replicas' figures, what is judged). A new
 * rollout or phase starts new figures. Knows nothing of the store: the sync loop reads and
 * writes, and hands states and other replicas' documents over.
 */
export class PhaseLedger {
  readonly #options: ResolvedCanaryOptions | undefined;
  readonly #clock: Clock;
  readonly #criteria: JudgeCriteria | undefined;
  readonly #fastFail: FastFailWindow | undefined;
  readonly #onFastFail: (reason: string) => void;
  #state: RolloutState = IDLE_STATE;
  #metrics: PhaseMetrics | undefined;
  /** Set when the fast-fail rule fired here: the canary gets nothing until the state says so. */
  #fastFailedRollout: string | undefined;
  /** Recent calls by request id: the side and phase that served them, for business feedback. */
  readonly #served = new Map<string, { side: 'stable' | 'canary'; key: string }>();

  /** `onFastFail` is told once per rollout, with the reason, when the fast-fail rule fires. */
  constructor(
    options: ResolvedCanaryOptions | undefined,
    clock: Clock,
    onFastFail: (reason: string) => void,
  ) {
    this.#options = options;
    this.#clock = clock;
    this.#onFastFail = onFastFail;
    if (options) {
      this.#criteria = {
        minSamples: options.minSamples,
        ...options.thresholds,
        feedback: options.feedback,
      };
      this.#fastFail = options.fastFail && new FastFailWindow(options.fastFail);
    }
  }

  /** The state this replica routes by. */
  get state(): Readonly<RolloutState> {
    return this.#state;
  }

  /** Whether the fast-fail rule fired here in the current rollout. */
  get fastFailed(): boolean {
    return this.#fastFailedRollout === this.#state.rolloutId;
  }

  /** The current phase's own figures (this replica's), if a state was ever adopted. */
  get metrics(): PhaseMetrics | undefined {
    return this.#metrics;
  }

  /** The key figures of the current phase are filed under; undefined when calls are not judged. */
  get phaseKey(): string | undefined {
    return isActive(this.#state.status) ? this.#metrics?.key : undefined;
  }

  /** Takes a state as this replica's; a new rollout or phase starts new figures. */
  adopt(state: RolloutState): void {
    this.#state = state;
    const key = `${state.rolloutId}:${state.phase}`;
    if (this.#metrics?.key !== key) {
      this.#metrics = emptyPhase(key);
      this.#fastFail?.reset();
    }
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
    if (side === 'canary' && this.#fastFail?.record(outcome !== SUCCESS, this.#clock.now())) {
      this.#failFast();
    }
  }

  /** A canary-side call served by stable because its model has no equivalent on the canary. */
  recordIneligible(phaseKey: string | undefined): void {
    if (phaseKey !== undefined && this.#metrics?.key === phaseKey)
      this.#metrics.canary.addIneligible();
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

  /** The shadow figures of the phase `phaseKey`, while it is the current one. */
  shadowMetrics(phaseKey: string | undefined): ShadowMetrics | undefined {
    const metrics = this.#metrics;
    return phaseKey !== undefined && metrics?.key === phaseKey ? metrics.shadow : undefined;
  }

  /** This replica's figures of the current phase as a document to publish. */
  document(): PublishedPhase | undefined {
    const metrics = this.#metrics;
    return metrics && { key: metrics.key, document: JSON.stringify(documentOf(metrics)) };
  }

  /**
   * The figures of `local`'s phase across replicas, from every replica's published `documents`
   * (this one's included, as `published`); `local` alone when none were published.
   */
  merge(
    local: PhaseMetrics,
    documents: readonly string[],
    published: PublishedPhase | undefined,
  ): MergedPhase {
    if (documents.length === 0) return { metrics: local, scope: 'local', replicas: 1 };
    if (
      documents.length === 1 &&
      published?.key === local.key &&
      documents[0] === published.document
    ) {
      // Only this replica's figures are in the store: nothing to add to them.
      return { metrics: local, scope: 'merged', replicas: 1 };
    }
    const merged = emptyPhase(local.key);
    for (const document of documents) {
      const snapshot = JSON.parse(document) as PhaseDocument;
      merged.stable.merge(snapshot.stable);
      merged.canary.merge(snapshot.canary);
      if (snapshot.shadow) merged.shadow.merge(snapshot.shadow);
    }
    return { metrics: merged, scope: 'merged', replicas: documents.length };
  }

  /**
   * Judges the current phase on `merged` figures: the verdict, and the evaluation that travels
   * with the state, so each replica reports the one decided on.
   */
  judge(merged: MergedPhase, now: number): { verdict: Verdict; evaluation: RolloutEvaluation } {
    const canary = this.#options!;
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
    return { verdict, evaluation };
  }

  /** The current phase's figures so far, not yet judged: `merged` when known, else local. */
  figures(merged: MergedPhase | undefined): PhaseFigures {
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

  /** Keeps a bounded map of recent calls (oldest forgotten first). */
  #remember(requestId: string, side: 'stable' | 'canary', key: string): void {
    const served = this.#served;
    served.delete(requestId);
    served.set(requestId, { side, key });
    if (served.size > this.#options!.feedback.maxTracked)
      served.delete(served.keys().next().value!);
  }

  /** The fast-fail rule fired: the canary gets nothing here, and the owner is told once. */
  #failFast(): void {
    const rolloutId = this.#state.rolloutId;
    if (this.#fastFailedRollout === rolloutId) return;
    this.#fastFailedRollout = rolloutId;
    this.#onFastFail(`fast-fail: ${this.#fastFail!.describe(this.#clock.now())}`);
  }
}

function emptyPhase(key: string): PhaseMetrics {
  return { key, stable: new SideMetrics(), canary: new SideMetrics(), shadow: new ShadowMetrics() };
}

function documentOf(metrics: PhaseMetrics): PhaseDocument {
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
