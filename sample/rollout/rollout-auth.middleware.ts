import { Injectable, type INestApplication, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RolloutAccess, type RolloutScope } from './rollout-access.js';

/**
 * Authenticates the rollout's routes before the app reads the request. Nest parses JSON bodies
 * before any guard runs, so the guards alone would let an unauthenticated `POST /rollout/pause`
 * with a broken body learn about its body (400) instead of being refused (401), and would parse
 * every stranger's body. Installed with `useRolloutAuth(app)` ahead of the body parsers; the
 * guards still check every request (defence in depth, and wherever the rollout's routes are
 * mounted without it).
 *
 * Every request passes through it, and only those to a rollout route are checked (`scopeOf`): a
 * path is matched as either router may match it, and a request refused here never reaches one.
 */
@Injectable()
export class RolloutAuthMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  constructor(private readonly access: RolloutAccess) {}

  use(request: IncomingMessage, response: ServerResponse, next: () => void): void {
    if (!this.#refuse(request, response)) next();
  }

  /** Answers a request to a rollout route that its credentials do not allow; true if it did. */
  #refuse(request: IncomingMessage, response: ServerResponse): boolean {
    const scope = scopeOf(request.method ?? 'GET', request.url ?? '/');
    if (!scope) return false;
    const denial = this.access.check(request.headers.authorization, scope);
    if (!denial) return false;
    const body = JSON.stringify(denial.body);
    // The body is never read: discard it, and close the socket rather than wait for all of it.
    request.resume();
    response.writeHead(denial.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...(denial.status === 401 ? { 'www-authenticate': 'Bearer realm="rollout"' } : {}),
      connection: 'close',
    });
    response.end(body);
    return true;
  }
}

/**
 * Puts the rollout's authentication first among the app's middleware. Call it before the body
 * parsers are registered (`useBodyParser`, and before `init()`/`listen()`, which add Nest's
 * defaults): on Express the middleware then runs before `express.json()`; on Fastify Nest's
 * middleware runs in the `onRequest` hook, before any content-type parser reads the body.
 * Either way it runs inside the server's request listener, after the drain's gate has counted
 * the request.
 */
export function useRolloutAuth(app: INestApplication): void {
  const middleware = app.get(RolloutAuthMiddleware);
  app.use((request: IncomingMessage, response: ServerResponse, next: () => void) =>
    middleware.use(request, response, next),
  );
}

const ROLLOUT_OR_ESCAPE = /rollout|%/i;

/**
 * The scope a request needs, or `undefined` for routes that are not the rollout's. Paths are
 * compared as the routers may match them: decoded, without repeated or trailing slashes, and
 * case-insensitively (Express routes ignore case by default).
 */
export function scopeOf(method: string, url: string): RolloutScope | undefined {
  // Most requests name neither the rollout nor an escape that could spell it: nothing to decode.
  if (!ROLLOUT_OR_ESCAPE.test(url)) return undefined;
  const raw = url.split('?', 1)[0]!;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    path = raw;
  }
  path = path
    .replace(/\/{2,}/g, '/')
    .replace(/(.)\/$/, '$1')
    .toLowerCase();
  if (path !== '/rollout' && !path.startsWith('/rollout/')) return undefined;
  if (method === 'GET' || method === 'HEAD') return 'read';
  if (method === 'POST') return 'admin';
  return undefined;
}
