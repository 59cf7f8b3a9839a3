import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** `Date.now()` when the socket closed. */
  closed: Promise<number>;
  /** The socket's error code, if it failed (ECONNRESET when the server reset it). */
  error: () => string | undefined;
  received: () => string;
  /** Writes `request` and resolves with the whole response (one with a content-length). */
  send(request: string): Promise<string>;
}

/** A raw TCP connection to the gateway, to hold sockets idle or send a request in pieces. */
export async function openSocket(port: number): Promise<RawConnection> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let text = '';
  let failure: string | undefined;
  socket.on('data', (data: Buffer) => (text += data.toString()));
  socket.on('error', (error: NodeJS.ErrnoException) => (failure = error.code ?? error.message));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  return {
    socket,
    closed,
    error: () => failure,
    received: () => text,
    send: async (request) => {
      const start = text.length;
      socket.write(request);
      for (;;) {
        const response = text.slice(start);
        const headEnd = response.indexOf('\r\n\r\n');
        const length = /\r\ncontent-length: (\d+)\r\n/i.exec(response)?.[1];
        if (headEnd >= 0 && length && response.length >= headEnd + 4 + Number(length)) {
          return response;
        }
        if (socket.destroyed) throw new Error(`the connection closed: ${failure ?? 'no error'}`);
        await Promise.race([once(socket, 'data'), once(socket, 'close')]);
      }
    },
  };
}

/** A request as a raw HTTP/1.1 client would write it on a keep-alive connection. */
export function rawRequest(method: string, path: string, body?: string): string {
  const head = `${method} ${path} HTTP/1.1\r\nHost: gateway\r\n`;
  if (body === undefined) return `${head}\r\n`;
  return `${head}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
