import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a scripted upstream saw of one request. */
export interface SeenRequest {
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
  /** The client's port: two requests with the same one came on the same keep-alive socket. */
  remotePort: number;
  /** Whether the socket the request came on is still open (the client kept it for reuse). */
  socketOpen(): boolean;
  /** Set when the client went away before the response was complete. */
  abortedAt?: number;
  receivedAt: number;
}

export type UpstreamHandler = (
  request: SeenRequest,
  response: ServerResponse,
  raw: IncomingMessage,
) => void | Promise<void>;

/**
 * A bare OpenAI-shaped HTTP server for one test: each request is answered by the handler the
 * test gives, so it can misbehave in ways our simulator does not (comments only, a body held open
 * after `[DONE]`, huge bodies), and it records what it saw.
 */
export class ScriptedUpstream {
  readonly seen: SeenRequest[] = [];
  handler: UpstreamHandler = (_request, response) => sendJson(response, 200, completion('ok'));
  readonly #server: Server;

  private constructor() {
    this.#server = createServer((raw, response) => {
      const parts: Buffer[] = [];
      raw.on('data', (part: Buffer) => parts.push(part));
      raw.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        const seen: SeenRequest = {
          body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          headers: raw.headers,
          remotePort: raw.socket.remotePort ?? 0,
          socketOpen: () => !raw.socket.destroyed,
          receivedAt: performance.now(),
        };
        this.seen.push(seen);
        response.on('close', () => {
          if (!response.writableFinished) seen.abortedAt = performance.now();
        });
        void this.handler(seen, response, raw);
      });
    });
    this.#server.keepAliveTimeout = 30_000;
  }

  static async start(): Promise<ScriptedUpstream> {
    const upstream = new ScriptedUpstream();
    await new Promise<void>((resolve) => upstream.#server.listen(0, '127.0.0.1', resolve));
    return upstream;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

export function completion(content: string, usage = { prompt_tokens: 5, completion_tokens: 2 }) {
  return {
    id: 'cmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

/** One SSE event carrying a chunk with `content`, plus any extra fields. */
export function chunkEvent(content: string, extra: Record<string, unknown> = {}): string {
  const chunk = {
    id: 'chunk-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
    ...extra,
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

export function startSse(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.flushHeaders();
}
