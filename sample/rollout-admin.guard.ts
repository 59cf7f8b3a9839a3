import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Rollout actions need `Authorization: Bearer <ROLLOUT_ADMIN_TOKEN>` (401 without it); they are
 * disabled (403) when the variable is unset. The token is compared in constant time.
 */
@Injectable()
export class RolloutAdminGuard implements CanActivate {
  readonly #token = process.env.ROLLOUT_ADMIN_TOKEN
    ? digest(process.env.ROLLOUT_ADMIN_TOKEN)
    : undefined;

  canActivate(context: ExecutionContext): boolean {
    if (!this.#token) {
      throw new ForbiddenException(
        'Rollout actions are disabled: set ROLLOUT_ADMIN_TOKEN to enable them.',
      );
    }
    const { headers } = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>();
    const match = /^Bearer (.+)$/.exec(headers.authorization ?? '');
    if (!match || !timingSafeEqual(digest(match[1]!), this.#token)) {
      throw new UnauthorizedException(
        'Rollout actions need Authorization: Bearer <ROLLOUT_ADMIN_TOKEN>.',
      );
    }
    return true;
  }
}
