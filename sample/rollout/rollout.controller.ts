import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  CanaryRollout,
  RolloutActionError,
  ShadowMirror,
  type PhaseFigures,
  type RolloutReport,
  type ShadowFigures,
} from 'nestjs-inference/canary';
import { openAiException } from './rollout-access.js';
import { RolloutAdminGuard, RolloutReadGuard } from './rollout-admin.guard.js';
import { RolloutEventLog, type RolloutEventEntry } from './rollout-event-log.js';

interface ActionBody {
  /** Why, for the rollout's reason and its events (pause, resume, advance, rollback, promote). */
  reason?: unknown;
  /** The sticky hash's salt for a new rollout (start). */
  salt?: unknown;
}

/** What `GET /rollout` says of mirroring: now, and as the last evaluation and the phase so far saw it. */
interface ShadowSection {
  /** The stable side's share mirrored now (0 outside shadow phases). */
  percent: number;
  /** Mirrored calls running on this replica, and its spend on them this clock hour. */
  running: number;
  spentThisHourUsd: number;
  /** The comparisons the last evaluation was decided on (null before one). */
  evaluated: ShadowFigures | null;
  /** The current phase's comparisons so far (merged across replicas when a store is shared). */
  live: ShadowFigures;
}

/**
 * The rollout from `legacy` to `next`: `GET /rollout` shows where it stands, with the figures of
 * the judge's last evaluation per side and a `shadow` section; `GET /rollout/figures` the current phase's so far;
 * `GET /rollout/events` the last transitions; `POST /rollout/{start,pause,resume,advance,
 * rollback,promote}` move it. Errors are in OpenAI's shape. `RolloutAuthMiddleware` authenticates
 * these routes before their bodies are parsed; the guards check again.
 */
@Controller('rollout')
export class RolloutController {
  constructor(
    private readonly rollout: CanaryRollout,
    private readonly events: RolloutEventLog,
    private readonly mirror: ShadowMirror,
  ) {}

  @Get()
  @UseGuards(RolloutReadGuard)
  async status(): Promise<Omit<RolloutReport, 'shadow'> & { shadow: ShadowSection }> {
    const report = await this.rollout.report();
    const live = await this.rollout.figures();
    const { shadow: evaluated, ...rest } = report;
    return {
      ...rest,
      shadow: {
        percent: this.rollout.shadowBps / 100,
        running: this.mirror.running,
        spentThisHourUsd: this.mirror.spentThisHour,
        evaluated: evaluated ?? null,
        live: live.shadow,
      },
    };
  }

  @Get('figures')
  @UseGuards(RolloutReadGuard)
  figures(): Promise<PhaseFigures> {
    return this.rollout.figures();
  }

  @Get('events')
  @UseGuards(RolloutReadGuard)
  recentEvents(): { events: RolloutEventEntry[] } {
    return { events: this.events.entries() };
  }

  @Post(':action')
  @HttpCode(200)
  @UseGuards(RolloutAdminGuard)
  async act(
    @Param('action') action: string,
    @Body() body: ActionBody = {},
  ): Promise<RolloutReport> {
    const rollout = this.rollout;
    const actions: Record<string, () => Promise<RolloutReport>> = {
      start: () => rollout.start({ salt: text(body, 'salt') }),
      pause: () => rollout.pause(text(body, 'reason')),
      resume: () => rollout.resume(text(body, 'reason')),
      advance: () => rollout.advance(text(body, 'reason')),
      rollback: () => rollout.rollback(text(body, 'reason')),
      promote: () => rollout.promote(text(body, 'reason')),
    };
    const run = Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!run)
      throw openAiException(
        404,
        'invalid_request_error',
        `Unknown rollout action '${action}'. Use one of: ${Object.keys(actions).join(', ')}.`,
        'unknown_action',
        'action',
      );
    try {
      return await run();
    } catch (error) {
      // An action that does not apply to the rollout as it stands is a 409 with the reason.
      if (error instanceof RolloutActionError) {
        throw openAiException(
          409,
          'invalid_request_error',
          error.message,
          'rollout_action_not_applicable',
        );
      }
      throw error;
    }
  }
}

function text(body: ActionBody | undefined, field: 'reason' | 'salt'): string | undefined {
  const value = body?.[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw openAiException(
      400,
      'invalid_request_error',
      `${field} must be a string of 1 to 200 characters.`,
      'invalid_value',
      field,
    );
  }
  return value;
}
