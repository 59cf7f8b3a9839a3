import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  CanaryRollout,
  RolloutActionError,
  ShadowMirror,
  type RolloutReport,
  type ShadowFigures,
} from 'nestjs-inference';
import { RolloutAdminGuard } from './rollout-admin.guard.js';

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
 * The rollout from `legacy` to `next`: `GET /rollout` shows where it stands, with the current
 * phase's figures per side and a `shadow` section; `POST /rollout/{start,pause,resume,advance,
 * rollback,promote}` move it.
 */
@Controller('rollout')
export class RolloutController {
  constructor(
    private readonly rollout: CanaryRollout,
    private readonly mirror: ShadowMirror,
  ) {}

  @Get()
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
      throw new NotFoundException(
        `Unknown rollout action '${action}'. Use one of: ${Object.keys(actions).join(', ')}.`,
      );
    try {
      return await run();
    } catch (error) {
      // An action that does not apply to the rollout as it stands is a 409 with the reason.
      if (error instanceof RolloutActionError) throw new ConflictException(error.message);
      throw error;
    }
  }
}

function text(body: ActionBody | undefined, field: 'reason' | 'salt'): string | undefined {
  const value = body?.[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new BadRequestException(`${field} must be a string of 1 to 200 characters.`);
  }
  return value;
}
