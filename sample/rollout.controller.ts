import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Post,
  UseGuards,
} from '@nestjs/common';
import { CanaryRollout, RolloutActionError, type RolloutReport } from 'nestjs-inference';
import { RolloutAdminGuard } from './rollout-admin.guard.js';

interface ActionBody {
  /** Why, for the rollout's reason and its events (pause, resume, advance, rollback, promote). */
  reason?: unknown;
  /** The sticky hash's salt for a new rollout (start). */
  salt?: unknown;
}

/**
 * The rollout from `legacy` to `next`: `GET /rollout` shows where it stands, with the current
 * phase's figures per side; `POST /rollout/{start,pause,resume,advance,rollback,promote}` move it.
 */
@Controller('rollout')
export class RolloutController {
  constructor(private readonly rollout: CanaryRollout) {}

  @Get()
  status(): Promise<RolloutReport> {
    return this.rollout.report();
  }

  @Post('start')
  @HttpCode(200)
  @UseGuards(RolloutAdminGuard)
  start(@Body() body: ActionBody = {}): Promise<RolloutReport> {
    return act(() => this.rollout.start({ salt: text(body, 'salt') }));
  }

  @Post('pause')
  @HttpCode(200)
  @UseGuards(RolloutAdminGuard)
  pause(@Body() body: ActionBody = {}): Promise<RolloutReport> {
    return act(() => this.rollout.pause(text(body, 'reason')));
  }

  @Post('resume')
  @HttpCode(200)
  @UseGuards(RolloutAdminGuard)
  resume(@Body() body: ActionBody = {}): Promise<RolloutReport> {
    return act(() => this.rollout.resume(text(body, 'reason')));
  }

  @Post('advance')
  @HttpCode(200)
  @UseGuards(RolloutAdminGuard)
  advance(@Body() body: ActionBody = {}): Promise<RolloutReport> {
    return act(() => this.rollout.advance(text(body, 'reason')));
  }

  @Post('rollback')
  @HttpCode(200)
  @UseGuards(RolloutAdminGuard)
  rollback(@Body() body: ActionBody = {}): Promise<RolloutReport> {
    return act(() => this.rollout.rollback(text(body, 'reason')));
  }

  @Post('promote')
  @HttpCode(200)
  @UseGuards(RolloutAdminGuard)
  promote(@Body() body: ActionBody = {}): Promise<RolloutReport> {
    return act(() => this.rollout.promote(text(body, 'reason')));
  }
}

/** An action that does not apply to the rollout as it stands is a 409 with the reason. */
async function act(run: () => Promise<RolloutReport>): Promise<RolloutReport> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RolloutActionError) throw new ConflictException(error.message);
    throw error;
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
