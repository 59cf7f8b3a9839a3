import { Agent as NodeAgent, request as nodeRequest, type ClientRequestArgs } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent as UndiciAgent, buildConnector, request as undiciRequest } from 'undici';
import { PROMPT } from './load.js';

/** How one call ended, seen from the caller. */
export type CallOutcome =
  /** 200 with the whole answer (a stream ended with `[DONE]`). */
  | 'complete'
  /** The connect failed: nothing was sent. */
  | 'refused'
  /** The connection broke after the request could have been sent: reset, hang-up. */
  | 'reset'
  /** 200, but the answer or the stream is incomplete. */
  | 'truncated'
  /** An HTTP status other than 200. */
  | 'status';

export interface CallRecord {
  caller: string;
  stream: boolean;
  outcome: CallOutcome;
  /** `Date.now()` when the call was sent, and when it ended. */
  sentAt: number;
  endedAt: number;
  status?: number;
  /** The response's `Connection` header. */
  connection?: string;
  /** The connection the call went on: the caller's port, and the port it reached. */
  localPort?: number;
  remotePort?: number;
  error?: string;
}

export interface Address {
  host: string;
  port: number;
}

export type CallerKind = 'undici' | 'node';

export interface CallerOptions {
  name: string;
  kind: CallerKind;
  /** The URL the caller asks for (its `Host`). */
  url: URL;
  /** Where a new connection goes, asked at each connect (a Service routes connections, not requests). */
  route: () => Address;
  /** The content every answer must carry. */
  expected: string;
  /** The pause after each call, in ms. */
  thinkMs: () => number;
  /** The share of calls that are streams. */
  streamShare: number;
  headers?: Record<string, string>;
}

/**
 * One service that calls the gateway with its own keep-alive pool: undici's `Agent`, or Node's
 * `http.Agent` with `keepAlive` (and the `timeout` Node's global agent has, without which it ignores
 * the server's keep-alive hint). Every other option is the client's default. It sends one call
 * after another, pausing `thinkMs()` between them, so its socket is sometimes busy, sometimes idle.
 */
export class KeepAliveCaller {
  readonly records: CallRecord[] = [];
  readonly #undici: UndiciAgent | undefined;
  readonly #node: NodeAgent | undefined;
  /** The ports of the undici pool's latest connection: a caller sends one call at a time. */
  #ports: Ports = {};
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(private readonly options: CallerOptions) {
    if (options.kind === 'undici') {
      const connect = buildConnector({});
      this.#undici = new UndiciAgent({
        connect: (connectOptions, callback) => {
          const { host, port } = options.route();
          connect({ ...connectOptions, hostname: host, port: String(port) }, (...result) => {
            this.#ports = result[1] ? portsOf(result[1] as Socket, port) : {};
            callback(...result);
          });
        },
      });
    } else {
      const agent = new NodeAgent({ keepAlive: true, timeout: 5_000 });
      agent.createConnection = (connectOptions: ClientRequestArgs) => {
        const address = options.route();
        const socket = createConnection({ ...(connectOptions as object), ...address });
        routedPorts.set(socket, address.port);
        return socket;
      };
      this.#node = agent;
    }
  }

  get name(): string {
    return this.options.name;
  }

  start(): void {
    this.#loop = this.#run();
  }

  /** Stops after the call in progress, then closes the pool. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    if (this.#undici) await this.#undici.close();
    this.#node?.destroy();
  }

  async #run(): Promise<void> {
    let index = 0;
    while (!this.#stopped) {
      const stream = Math.random() < this.options.streamShare;
      const record = await this.#call(`${this.options.name}-${index++}`, stream);
      this.records.push(record);
      // Once refused, the replica is gone: do not spin.
      const pause = record.outcome === 'refused' ? 100 : this.options.thinkMs();
      if (pause > 0 && !this.#stopped) await delay(pause);
    }
  }

  #call(id: string, stream: boolean): Promise<CallRecord> {
    const body = JSON.stringify({ ...PROMPT, stream });
    const headers = {
      ...this.options.headers,
      'content-type': 'application/json',
      'x-request-id': id,
    };
    const url = new URL('/v1/chat/completions', this.options.url);
    const sentAt = Date.now();
    const ended = (
      fields: Omit<CallRecord, 'caller' | 'stream' | 'sentAt' | 'endedAt'>,
      ports: Ports,
    ): CallRecord => ({
      caller: this.options.name,
      stream,
      sentAt,
      endedAt: Date.now(),
      localPort: ports.local,
      remotePort: ports.remote,
      ...fields,
    });
    if (this.#undici) {
      return undiciRequest(url, { method: 'POST', headers, body, dispatcher: this.#undici }).then(
        async (response) => {
          const connection = oneHeader(response.headers.connection);
          const status = response.statusCode;
          try {
            const text = await response.body.text();
            return ended(
              { outcome: this.#judge(status, stream, text), status, connection },
              this.#ports,
            );
          } catch (error) {
            return ended(
              { outcome: 'truncated', status, connection, error: describe(error) },
              this.#ports,
            );
          }
        },
        (error: unknown) =>
          ended({ outcome: classify(error), error: describe(error) }, this.#ports),
      );
    }
    return new Promise((resolve) => {
      let ports: Ports = {};
      let answered = false;
      const request = nodeRequest(
        url,
        { method: 'POST', headers, agent: this.#node },
        (response) => {
          answered = true;
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('error', () => undefined);
          response.on('close', () => {
            const status = response.statusCode ?? 0;
            const connection = oneHeader(response.headers.connection);
            const outcome = response.complete ? this.#judge(status, stream, text) : 'truncated';
            resolve(ended({ outcome, status, connection }, ports));
          });
        },
      );
      request.on('socket', (assigned: Socket) => {
        // Ports are read once connected, while the socket is open.
        const routed = routedPorts.get(assigned);
        if (!assigned.connecting) ports = portsOf(assigned, routed);
        else assigned.once('connect', () => (ports = portsOf(assigned, routed)));
      });
      request.on('error', (error) => {
        // An error after the response began is reported by the response's 'close'.
        if (!answered) resolve(ended({ outcome: classify(error), error: describe(error) }, ports));
      });
      request.end(body);
    });
  }

  #judge(status: number, stream: boolean, text: string): CallOutcome {
    if (status !== 200) return 'status';
    return contentOf(text, stream) === this.options.expected ? 'complete' : 'truncated';
  }
}

interface Ports {
  local?: number;
  remote?: number;
}

/** The port each of Node's agent's connections was routed to. */
const routedPorts = new WeakMap<Socket, number>();

/**
 * The connection's ports. The remote one is the port it was routed to when the peer's address can
 * no longer be read: a connection the kernel queued and reset at the listener's close is already
 * reset when a busy caller gets to its `connect` event.
 */
function portsOf(socket: Socket, routedPort: number | undefined): Ports {
  return { local: socket.localPort, remote: socket.remotePort ?? routedPort };
}

/** The answer's text; for a stream, only if it ended with `[DONE]`. */
function contentOf(text: string, stream: boolean): string | undefined {
  try {
    if (!stream) {
      const parsed = JSON.parse(text) as { choices: { message: { content: string } }[] };
      return parsed.choices[0]!.message.content;
    }
    let content = '';
    let done = false;
    for (const line of text.split('\n')) {
      if (!line.startsWith('data: ')) continue;
      const data = line.slice(6);
      if (data === '[DONE]') done = true;
      else
        content +=
          (JSON.parse(data) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta
            ?.content ?? '';
    }
    return done ? content : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A connect that failed sent nothing: the call is refused, whatever the code (ECONNREFUSED from a
 * closed listener, or ECONNRESET for a connection the kernel had half-accepted as the listener
 * closed). Any other failure came after the request could have been sent.
 */
function classify(error: unknown): CallOutcome {
  return fieldOf(error, 'syscall') === 'connect' ? 'refused' : 'reset';
}

function fieldOf(error: unknown, field: 'code' | 'syscall'): string | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const value = (cause as unknown as Record<string, unknown>)[field];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

function describe(error: unknown): string {
  const code = fieldOf(error, 'code');
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code}: ${message}` : message;
}

function oneHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
