import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../client/clock.js';

/**
 * The HTTP server's open connections, from accept to close: the drain waits for the last one to
 * close, and at the deadline destroys those left.
 */
export class OpenConnections {
  readonly #sockets = new Set<Socket>();
  #waiters: (() => void)[] = [];
  #silenceLimitMs: number | undefined;

  constructor(
    server: Server,
    private readonly clock: Clock,
  ) {
    server.on('connection', this.#add);
  }

  get size(): number {
    return this.#sockets.size;
  }

  /** Resolves as soon as no connection is open. */
  whenNone(): Promise<void> {
    if (this.#sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * From now on, a connection that has not sent a single byte within `ms` of now (or of its
   * accept) is closed. Node gives such a connection no timeout of its own (neither keep-alive nor
   * `headersTimeout` applies before a first byte), so without this a client that opened a socket
   * and never used it would hold the drain until its deadline. `ms` is the time the server gives
   * an idle keep-alive connection: a client is no more likely to write on this one than on those.
   */
  expireSilentAfter(ms: number): void {
    if (this.#silenceLimitMs !== undefined) return;
    this.#silenceLimitMs = ms;
    for (const socket of this.#sockets) this.#watchSilence(socket, ms);
  }

  /** Closes the connections that have not sent a byte. */
  closeSilent(): void {
    for (const socket of this.#sockets) if (socket.bytesRead === 0) socket.destroy();
  }

  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  readonly #add = (socket: Socket): void => {
    this.#sockets.add(socket);
    socket.once('close', () => this.#remove(socket));
    if (this.#silenceLimitMs !== undefined) this.#watchSilence(socket, this.#silenceLimitMs);
  };

  #remove(socket: Socket): void {
    if (!this.#sockets.delete(socket) || this.#sockets.size > 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }

  #watchSilence(socket: Socket, ms: number): void {
    if (socket.bytesRead > 0) return;
    const timer = this.clock.setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, ms);
    socket.once('close', () => this.clock.clearTimeout(timer));
  }
}
