import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Answers a request the server can no longer serve: 503, `Retry-After`, `Connection: close` and
 * an OpenAI-style error body, so clients and SDKs retry it elsewhere. The request body is read
 * and discarded, so the socket closes cleanly after the answer.
 */
export function answerShuttingDown(
  message: IncomingMessage,
  response: ServerResponse,
  retryAfterMs: number,
): void {
  const body = JSON.stringify({
    error: {
      message: 'The server is shutting down. Retry the request; another instance will answer.',
      type: 'server_error',
      code: 'shutting_down',
      param: null,
    },
  });
  message.resume();
  response.shouldKeepAlive = false;
  response.writeHead(503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
    connection: 'close',
  });
  response.end(body);
}
