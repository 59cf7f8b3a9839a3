import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { RolloutAccess, type RolloutScope } from './rollout-access.js';

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Authenticates the rollout's routes before the app sees the request. Nest parses bodies before
 * any guard or middleware runs, so without this an unauthenticated `POST /rollout/pause` with a
 * broken body would learn about its body (400) instead of being refused (401), and every
 * stranger's body would be parsed. It wraps the HTTP server's request listener, which is the
 * same on Express and Fastify; the guards still check every request (defence in depth).
 *
 * Installed in `onModuleInit`: after the server exists, before the drain's gate prepends its own
 * listener at bootstrap (so a refused request is still tracked by the drain).
 */
@Injectable()
export class RolloutAuthHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly access: RolloutAccess,
  ) {}

  onModuleInit(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return; // no HTTP server: an application context
    const listeners = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    const refuse = (request: IncomingMessage, response: ServerResponse) =>
      this.#refuse(request, response);
    server.on('request', function (this: Server, request, response) {
      if (refuse(request, response)) return;
      for (const listener of listeners) listener.call(this, request, response);
    });
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
