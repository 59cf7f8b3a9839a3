import {
  HttpException,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { RolloutAccess, type RolloutScope } from './rollout-access.js';

/**
 * Checks a rollout route's credentials (see `RolloutAccess`) and refuses in OpenAI's error shape.
 * `RolloutAuthMiddleware` refuses the same requests before their bodies are parsed; the guards keep
 * the routes closed wherever the controller is mounted without it.
 */
abstract class RolloutScopeGuard implements CanActivate {
  protected abstract readonly scope: RolloutScope;

  constructor(@Inject(RolloutAccess) private readonly access: RolloutAccess) {}

  canActivate(context: ExecutionContext): boolean {
    const { headers } = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>();
    const denial = this.access.check(headers.authorization, this.scope);
    if (denial) throw new HttpException(denial.body, denial.status);
    return true;
  }
}

/**
 * Rollout actions need `Authorization: Bearer <ROLLOUT_ADMIN_TOKEN>` (401 without it); they are
 * disabled (403) when the variable is unset.
 */
@Injectable()
export class RolloutAdminGuard extends RolloutScopeGuard {
  protected readonly scope = 'admin';
}

/** Reading the rollout needs `ROLLOUT_READ_TOKEN` (or the admin token) when that is set. */
@Injectable()
export class RolloutReadGuard extends RolloutScopeGuard {
  protected readonly scope = 'read';
}
