import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { InflightRegistry } from './inflight.registry.js';

/**
 * The HTTP server's side of a drain. It tracks every request from the moment the server
 * receives it (before any middleware, so a request still reading its body counts too), and when
 * the drain begins it stops the server accepting: the listener closes, idle keep-alive sockets
 * are closed, responses not yet started carry `Connection: close`, sockets are closed as their
 * response ends, and a request that still arrives on an old socket is answered 503.
 */
export class HttpServerGate {
  readonly #sockets = new Set<Socket>();
  #closed = false;

  constructor(
    private readonly server: Server,
    private readonly registry: InflightRegistry,
    private readonly retryAfterMs: number,
  ) {
    server.prependListener('request', this.#track);
    server.on('connection', this.#add);
  }

  /** Stops accepting: closes the listener and idle sockets; in-flight requests go on. */
  stopAccepting(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.server.removeAllListeners('request');
    this.server.on('request', this.#refuse);
    // Stops listening; Node (≥ 19) also closes the connections that are idle right now.
    this.server.close();
    // Node does not count a connection that never sent a byte as idle: close those too.
    for (const socket of this.#sockets) if (socket.bytesRead === 0) socket.destroy();
    for (const response of this.registry.inflightResponses()) this.#closeAfter(response);
  }

  /**
   * Once nothing is in flight: closes the sockets left (idle, or still sending a request that
   * would be refused), so that none holds the server open.
   */
  release(): void {
    for (const socket of this.#sockets) socket.destroySoon();
  }

  /** Destroys every socket left, busy or not. */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  readonly #add = (socket: Socket): void => {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  };

  readonly #track = (message: IncomingMessage, response: ServerResponse): void => {
    this.registry.trackRequest(message, response);
  };

  /** A request that arrived on an old keep-alive socket after the drain began. */
  readonly #refuse = (message: IncomingMessage, response: ServerResponse): void => {
    this.registry.recordRejection();
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
      'retry-after': String(Math.max(1, Math.ceil(this.retryAfterMs / 1000))),
      connection: 'close',
    });
    response.end(body);
  };

  /** The response says `Connection: close` if it has not started, and its socket closes after it. */
  #closeAfter(response: ServerResponse): void {
    if (!response.headersSent) response.shouldKeepAlive = false;
    response.once('close', () => this.server.closeIdleConnections());
  }
}
