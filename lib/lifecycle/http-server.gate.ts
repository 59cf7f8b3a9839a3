import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Clock } from '../client/clock.js';
import type { InflightRegistry } from './inflight.registry.js';
import { OpenConnections } from './open-connections.js';
import type { ShutdownOptions } from './shutdown-options.js';
import { answerShuttingDown } from './shutting-down.response.js';
import { stopListening } from './stop-listening.js';

/** Node (20.x, 24.x) keeps an idle keep-alive socket this long past the timeout it advertised. */
const NODE_KEEP_ALIVE_BUFFER_MS = 1_000;

export type HttpServerGateOptions = Pick<
  ShutdownOptions,
  'retryAfterMs' | 'keepAliveTimeoutMs' | 'idleConnections'
> & { clock: Clock };

/**
 * The HTTP server's side of a drain. It tracks every request from the moment the server receives
 * it (before any middleware, so a request still reading its body counts too) and every connection.
 *
 * No socket is ever closed under a client that may be writing a request on it. From the signal
 * on, every response says `Connection: close`, so each client leaves its socket after the answer
 * on its own. A keep-alive socket that is idle is left to expire by the keep-alive timeout the
 * server advertised (clients close theirs before it); a request that still arrives on one is
 * served like any other, with `Connection: close`. The listener closes without touching open
 * connections. Only after the drain deadline are requests refused (503) and sockets destroyed.
 */
export class HttpServerGate {
  readonly #connections: OpenConnections;
  #draining = false;
  #refusing = false;

  constructor(
    private readonly server: Server,
    private readonly registry: InflightRegistry,
    private readonly options: HttpServerGateOptions,
  ) {
    server.keepAliveTimeout = options.keepAliveTimeoutMs;
    server.prependListener('request', this.#track);
    this.#connections = new OpenConnections(server, options.clock);
  }

  /** Connections open now, busy or idle. */
  get openConnections(): number {
    return this.#connections.size;
  }

  /**
   * How long after its last response the server itself closes an idle keep-alive socket: the
   * advertised timeout plus the margin Node adds (`keepAliveTimeoutBuffer` on Node 24).
   */
  get idleExpiryMs(): number {
    const buffer = (this.server as { keepAliveTimeoutBuffer?: unknown }).keepAliveTimeoutBuffer;
    const margin = typeof buffer === 'number' && buffer >= 0 ? buffer : NODE_KEEP_ALIVE_BUFFER_MS;
    return this.server.keepAliveTimeout + margin;
  }

  /**
   * The signal: from now on every response says `Connection: close` (those in flight that have not
   * started yet too), and the server still accepts connections.
   */
  beginDrain(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const response of this.registry.inflightResponses()) closeAfter(response);
    if (this.options.idleConnections === 'expire') {
      this.#connections.expireSilentAfter(this.idleExpiryMs);
    }
  }

  /** The listener closes; open connections are left alone. Resolves once it is closed. */
  stopAccepting(): Promise<void> {
    this.beginDrain();
    return stopListening(this.server);
  }

  /**
   * Resolves once every connection has closed: each after its `Connection: close` answer, or at
   * its keep-alive expiry. With `idleConnections: 'close'` (tests), those idle now are closed now.
   * Call it when nothing is in flight.
   */
  whenClosed(): Promise<void> {
    if (this.options.idleConnections === 'close') {
      this.server.closeIdleConnections();
      this.#connections.closeSilent();
    }
    return this.#connections.whenNone();
  }

  /**
   * After the drain deadline: a request that arrives now is answered 503 before the app sees it.
   * Node calls every `'request'` listener in turn and none can stop the next, so the gate answers
   * at the server's `emit` instead of removing listeners (the app's, and any other library's).
   */
  refuseFromNowOn(): void {
    if (this.#refusing) return;
    this.#refusing = true;
    const { server } = this;
    const emit = server.emit;
    server.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
      if (event !== 'request') return Reflect.apply(emit, server, [event, ...args]) as boolean;
      this.registry.recordRejection();
      const [message, response] = args as [IncomingMessage, ServerResponse];
      answerShuttingDown(message, response, this.options.retryAfterMs);
      return true;
    }) as Server['emit'];
  }

  /** Destroys every socket left, busy or not. */
  destroyAll(): void {
    this.#connections.destroyAll();
  }

  readonly #track = (message: IncomingMessage, response: ServerResponse): void => {
    this.registry.trackRequest(message, response);
    if (this.#draining) response.shouldKeepAlive = false;
  };
}

/** The response says `Connection: close` if it has not started; Node closes its socket after it. */
function closeAfter(response: ServerResponse): void {
  if (!response.headersSent) response.shouldKeepAlive = false;
}
