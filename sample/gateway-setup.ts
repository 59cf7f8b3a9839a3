import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { serverConfig, type ServerConfig } from './config/server.config.js';
import { useRolloutAuth } from './rollout/rollout-auth.middleware.js';

/**
 * What the gateway sets on the app before it listens, on Express and Fastify alike (`main.ts`
 * calls it; so do the tests that start the app in-process):
 * - the rollout's authentication, first, so a stranger's request to `/rollout*` is refused
 *   before any body parser reads it (see `useRolloutAuth`);
 * - one JSON body limit (`BODY_LIMIT_BYTES`, default 25 MiB), where Express would allow 100 KB
 *   and Fastify 1 MB;
 * - a header block over Node's limit answered 431 in OpenAI's error shape, where Node would
 *   close with a bare status line;
 * - on Express, no `ETag`: Express hashes every response body for one, and no client of a POST
 *   API sends it back (Fastify computes none).
 */
export function configureGateway(app: INestApplication): void {
  const { bodyLimitBytes: limit } = app.get<ServerConfig>(serverConfig.KEY);
  useRolloutAuth(app);
  const adapter = app.getHttpAdapter().getType();
  if (adapter === 'fastify') {
    // Fastify's own JSON parser, named: Nest 11 hands the raw Buffer on when given none.
    const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
    (app as unknown as FastifyApp).useBodyParser(
      'application/json',
      { bodyLimit: limit },
      fastify.getDefaultJsonParser('error', 'error'),
    );
  } else {
    (app as unknown as ExpressApp).useBodyParser('json', { limit });
    (app as unknown as ExpressApp).set('etag', false);
  }
  const server = app.getHttpServer() as Server;
  server.removeAllListeners('clientError');
  server.on('clientError', answerClientError);
}

interface FastifyApp {
  useBodyParser(type: string, options: { bodyLimit: number }, parser: BodyParser): void;
}
type BodyParser = (
  request: unknown,
  body: Buffer,
  done: (error: Error | null, body?: unknown) => void,
) => void;
interface FastifyInstance {
  getDefaultJsonParser(onProtoPoisoning: string, onConstructorPoisoning: string): BodyParser;
}
interface ExpressApp {
  useBodyParser(type: string, options: { limit: number }): void;
  set(setting: string, value: unknown): void;
}

/** Node's parser refused the request before any handler: answer in OpenAI's shape when we can. */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const [status, reason, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'The request headers are too large.']
      : [400, 'Bad Request', 'The request could not be parsed as HTTP.'];
  const body = JSON.stringify({
    error: {
      message,
      type: 'invalid_request_error',
      code: status === 431 ? 'headers_too_large' : 'bad_request',
      param: null,
    },
  });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
