import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CanaryRollout, type RolloutEvent } from 'nestjs-inference/canary';

/** One transition as the dashboard lists it: the event without the full report it carries. */
export interface RolloutEventEntry {
  type: RolloutEvent['type'];
  from: RolloutEvent['from'];
  to: RolloutEvent['to'];
  reason: string;
  at: number;
  phase: number | null;
  weightPercent: number;
}

/** The last transitions this replica made (newest first), for `GET /rollout/events`. */
@Injectable()
export class RolloutEventLog implements OnModuleInit, OnModuleDestroy {
  static readonly LIMIT = 50;
  readonly #entries: RolloutEventEntry[] = [];
  #unsubscribe?: () => void;

  constructor(private readonly rollout: CanaryRollout) {}

  onModuleInit(): void {
    this.#unsubscribe = this.rollout.subscribe((event) => {
      this.#entries.unshift({
        type: event.type,
        from: event.from,
        to: event.to,
        reason: event.reason,
        at: event.at,
        phase: event.report.phase,
        weightPercent: event.report.weightPercent,
      });
      this.#entries.length = Math.min(this.#entries.length, RolloutEventLog.LIMIT);
    });
  }

  onModuleDestroy(): void {
    this.#unsubscribe?.();
  }

  entries(): RolloutEventEntry[] {
    return [...this.#entries];
  }
}
