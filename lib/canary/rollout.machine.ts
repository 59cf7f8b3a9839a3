import type { ResolvedPhase } from './canary-options.js';
import type { Verdict } from './judge.js';
import { RolloutActionError } from './rollout-action.error.js';
import { isActive, type RolloutState, type RolloutStatus } from './rollout-state.js';

export type RolloutEventType =
  | 'started'
  | 'progressing'
  | 'advanced'
  | 'hold'
  | 'paused'
  | 'resumed'
  | 'promoted'
  | 'rolled_back';

/** A new state, and the event it makes when the rollout moved (undefined when only counters did). */
export interface RolloutChange {
  state: RolloutState;
  event?: { type: RolloutEventType; from: RolloutStatus; reason: string };
}

export interface MachineSettings {
  phases: readonly ResolvedPhase[];
  consecutiveFailures: number;
  warmup: { probes: number; maxFailures: number };
}

/**
 * The rollout's state machine, as pure functions of (state, input, now): the same on every
 * replica and in tests, with no clock or I/O of its own.
 *
 * idle → warming → progressing(phase) ⇄ hold / paused → promoted; any active state →
 * rolled_back, which is sticky until the next start.
 */
export class RolloutMachine {
  constructor(private readonly settings: MachineSettings) {}

  start(current: RolloutState, rolloutId: string, salt: string, now: number): RolloutChange {
    if (isActive(current.status)) {
      throw new RolloutActionError(
        'start',
        current.status,
        `rollout ${current.rolloutId} is ${current.status}; roll it back or promote it first.`,
      );
    }
    const base: RolloutState = {
      ...current,
      rolloutId,
      salt,
      phase: -1,
      weightBps: 0,
      failures: 0,
      probesPassed: 0,
      probesFailed: 0,
      pausedAt: undefined,
      pausedBy: undefined,
      evaluatedAt: now,
      status: 'warming',
      evaluation: undefined,
    };
    const reason = `rollout ${rolloutId} started`;
    if (this.settings.warmup.probes === 0) {
      return this.#change(
        current,
        this.#enterPhase(base, 0, now),
        'started',
        `${reason}, without warm-up probes`,
        now,
      );
    }
    return this.#change(current, base, 'started', `${reason}; probing the canary`, now);
  }

  /** A warm-up probe of the canary ended. */
  probed(
    current: RolloutState,
    ok: boolean,
    detail: string,
    now: number,
  ): RolloutChange | undefined {
    if (current.status !== 'warming') return undefined;
    if (ok) {
      const passed = current.probesPassed + 1;
      if (passed < this.settings.warmup.probes) {
        return this.#change(
          current,
          { ...current, probesPassed: passed, probesFailed: 0 },
          undefined,
          '',
          now,
        );
      }
      return this.#change(
        current,
        this.#enterPhase({ ...current, probesPassed: passed, probesFailed: 0 }, 0, now),
        'progressing',
        `the canary passed ${passed} health probes`,
        now,
      );
    }
    const failed = current.probesFailed + 1;
    if (failed >= this.settings.warmup.maxFailures) {
      return this.rollback(
        current,
        `the canary failed ${failed} health probes in a row (${detail})`,
        now,
      );
    }
    return this.#change(
      current,
      { ...current, probesFailed: failed, probesPassed: 0 },
      undefined,
      '',
      now,
    );
  }

  /** The judge's verdict on the current phase. */
  evaluated(current: RolloutState, verdict: Verdict, now: number): RolloutChange | undefined {
    if (!['progressing', 'hold', 'paused'].includes(current.status)) return undefined;
    const judged = { ...current, evaluatedAt: now };
    const reasons = verdict.reasons.join('; ');
    switch (verdict.kind) {
      case 'fail': {
        const failures = current.failures + 1;
        if (failures >= this.settings.consecutiveFailures) {
          const what =
            failures === 1 ? 'a failing evaluation' : `${failures} failing evaluations in a row`;
          return this.rollback(judged, `${what}: ${reasons}`, now);
        }
        return this.#change(current, { ...judged, failures }, undefined, '', now);
      }
      case 'incident':
        if (current.status === 'paused') {
          // Still an incident: the reason follows the latest figures (an operator's pause keeps its own).
          const reason =
            current.pausedBy === 'incident'
              ? `provider-wide incident, the canary is not blamed: ${reasons}`
              : current.reason;
          return this.#change(current, { ...judged, reason }, undefined, '', now);
        }
        return this.#change(
          current,
          { ...judged, failures: 0, status: 'paused', pausedBy: 'incident', pausedAt: now },
          'paused',
          `provider-wide incident, the canary is not blamed: ${reasons}`,
          now,
        );
      case 'hold':
        if (current.status === 'hold') {
          // Still holding: the reason follows the latest count rather than the first one.
          return this.#change(current, { ...judged, reason: reasons }, undefined, '', now);
        }
        if (current.status !== 'progressing')
          return this.#change(current, judged, undefined, '', now);
        return this.#change(current, { ...judged, status: 'hold' }, 'hold', reasons, now);
      case 'pass': {
        if (current.status === 'paused' && current.pausedBy === 'operator') {
          return this.#change(current, { ...judged, failures: 0 }, undefined, '', now);
        }
        const running = this.#unpaused({ ...judged, failures: 0 }, now);
        const phase = this.settings.phases[current.phase]!;
        if (phase.durationMs !== undefined && now - running.phaseStartedAt >= phase.durationMs) {
          return this.#next(
            current,
            running,
            `phase ${current.phase + 1} ran its ${phase.durationMs} ms and passed: ${reasons}`,
            now,
          );
        }
        if (current.status === 'progressing')
          return this.#change(current, running, undefined, '', now);
        const why = current.status === 'paused' ? `the incident is over: ${reasons}` : reasons;
        return this.#change(current, running, 'resumed', why, now);
      }
    }
  }

  pause(current: RolloutState, reason: string, now: number): RolloutChange {
    if (
      !isActive(current.status) ||
      (current.status === 'paused' && current.pausedBy === 'operator')
    ) {
      throw new RolloutActionError('pause', current.status, `the rollout is ${current.status}.`);
    }
    const pausedAt = current.pausedAt ?? now;
    return this.#change(
      current,
      { ...current, status: 'paused', pausedBy: 'operator', pausedAt },
      'paused',
      reason,
      now,
    );
  }

  resume(current: RolloutState, reason: string, now: number): RolloutChange {
    if (current.status !== 'paused') {
      throw new RolloutActionError(
        'resume',
        current.status,
        `the rollout is ${current.status}, not paused.`,
      );
    }
    if (current.phase < 0) {
      return this.#change(
        current,
        { ...current, status: 'warming', pausedAt: undefined, pausedBy: undefined },
        'resumed',
        reason,
        now,
      );
    }
    return this.#change(current, this.#unpaused(current, now), 'resumed', reason, now);
  }

  advance(current: RolloutState, reason: string, now: number): RolloutChange {
    if (!isActive(current.status)) {
      throw new RolloutActionError('advance', current.status, `the rollout is ${current.status}.`);
    }
    return this.#next(current, this.#unpaused(current, now), reason, now);
  }

  promote(current: RolloutState, reason: string, now: number): RolloutChange {
    if (!isActive(current.status)) {
      throw new RolloutActionError('promote', current.status, `the rollout is ${current.status}.`);
    }
    return this.#change(
      current,
      this.#enterPhase(current, this.settings.phases.length - 1, now),
      'promoted',
      reason,
      now,
    );
  }

  rollback(current: RolloutState, reason: string, now: number): RolloutChange {
    if (!isActive(current.status)) {
      throw new RolloutActionError('rollback', current.status, `the rollout is ${current.status}.`);
    }
    return this.#change(
      current,
      { ...current, status: 'rolled_back', weightBps: 0, pausedAt: undefined, pausedBy: undefined },
      'rolled_back',
      reason,
      now,
    );
  }

  /** The next phase, or promotion after the last timed one. */
  #next(current: RolloutState, running: RolloutState, reason: string, now: number): RolloutChange {
    const next = this.#enterPhase(running, current.phase + 1, now);
    return this.#change(
      current,
      next,
      next.status === 'promoted' ? 'promoted' : 'advanced',
      reason,
      now,
    );
  }

  #enterPhase(state: RolloutState, phase: number, now: number): RolloutState {
    const last = phase >= this.settings.phases.length - 1;
    return {
      ...state,
      phase: Math.min(phase, this.settings.phases.length - 1),
      weightBps: this.settings.phases[Math.min(phase, this.settings.phases.length - 1)]!.weightBps,
      phaseStartedAt: now,
      failures: 0,
      status: last ? 'promoted' : 'progressing',
      pausedAt: undefined,
      pausedBy: undefined,
    };
  }

  /** Back to progressing; the time spent paused does not count towards the phase's duration. */
  #unpaused(state: RolloutState, now: number): RolloutState {
    const pausedFor = state.pausedAt === undefined ? 0 : now - state.pausedAt;
    return {
      ...state,
      status: 'progressing',
      phaseStartedAt: state.phaseStartedAt + pausedFor,
      pausedAt: undefined,
      pausedBy: undefined,
    };
  }

  #change(
    current: RolloutState,
    next: RolloutState,
    type: RolloutEventType | undefined,
    reason: string,
    now: number,
  ): RolloutChange {
    const state: RolloutState = { ...next, version: current.version + 1 };
    if (type === undefined) return { state };
    state.reason = reason;
    state.changedAt = now;
    return { state, event: { type, from: current.status, reason } };
  }
}
