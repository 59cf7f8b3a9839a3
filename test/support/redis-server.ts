import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A free loopback port, found by listening on port 0. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A throwaway redis-server on loopback, with no persistence. */
export class RedisServer {
  #process: ChildProcess | undefined;
  readonly #clients: Redis[] = [];

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.#spawn();
    return server;
  }

  /** A new client; closed by `stop()`. */
  client(): Redis {
    const client = new Redis({
      host: '127.0.0.1',
      port: this.port,
      lazyConnect: false,
      maxRetriesPerRequest: 1,
    });
    client.on('error', () => {}); // reconnects are expected while a test stops the server
    this.#clients.push(client);
    return client;
  }

  /** Kills the server (clients stay, reconnecting). */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.#spawn();
  }

  async stop(): Promise<void> {
    for (const client of this.#clients) client.disconnect();
    await this.kill();
  }

  async #spawn(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.#process = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`redis-server exited with ${code}: ${output}`)),
      );
      child.stdout!.on('data', (data: Buffer) => {
        output += data.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
    });
    child.stdout!.resume();
  }
}
