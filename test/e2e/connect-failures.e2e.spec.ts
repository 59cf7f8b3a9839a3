import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InferenceConnectionError, InferenceTimeoutError } from '../../lib/index.js';
import { hello, startHarness, type Harness } from '../support/inference-harness.js';

/** A free loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A listener that never accepts: a child process listens with a backlog of 1 (Node reads 0 as
 * "the default"), then blocks its event loop. Once its accept queue is full, the kernel drops
 * further SYNs, so a connect hangs, as it does towards a host that has gone away.
 */
async function blackHole(): Promise<{ port: number; child: ChildProcess; fillers: Socket[] }> {
  const script = `
    const server = require('node:net').createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(server.address().port + '\\n', () =>
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(child.stdout!, 'data');
  const port = Number(String(line).trim());
  // Fill the accept queue; connections beyond it get no answer.
  const fillers: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    fillers.push(socket);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  return { port, child, fillers };
}

describe('connect failures', () => {
  let h: Harness | undefined;
  let hole: Awaited<ReturnType<typeof blackHole>> | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    hole?.fillers.forEach((socket) => socket.destroy());
    hole?.child.kill('SIGKILL');
    hole = undefined;
  });

  it('a refused connection is a retried connection error in the connect phase', async () => {
    const port = await closedPort();
    h = await startHarness(
      {},
      { baseUrl: `http://127.0.0.1:${port}/v1`, retry: { maxRetries: 2 } },
    );
    const error = await h.service.chat(hello).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InferenceConnectionError);
    expect(error).toMatchObject({
      phase: 'connect',
      attempts: 3,
      retryable: true,
      provider: 'sim',
    });
  });

  it('a connection that never completes times out in the connect phase', async () => {
    hole = await blackHole();
    h = await startHarness(
      {},
      {
        baseUrl: `http://127.0.0.1:${hole.port}/v1`,
        retry: { maxRetries: 1 },
        timeouts: { connectMs: 200, headersMs: 5_000, totalMs: 5_000 },
      },
    );
    const started = performance.now();
    const error = await h.service.chat(hello).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(InferenceTimeoutError);
    expect(error).toMatchObject({ phase: 'connect', attempts: 2 });
    // Two attempts of 200 ms each, with a short backoff: far below the 5 s headers and total budgets.
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(1_500);
  });
});
