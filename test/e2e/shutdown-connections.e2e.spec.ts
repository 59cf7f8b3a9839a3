import 'reflect-metadata';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InferenceExceptionFilter,
  InferenceModule,
  InflightRegistry,
  ShutdownCoordinator,
  type ShutdownOptions,
} from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { adapters, type AdapterName } from '../support/http-app.js';
import { CapturingLogger, TEST_API_KEY } from '../support/inference-harness.js';
import { openSocket, rawRequest, type RawConnection } from '../support/raw-connection.js';
import { waitFor } from '../support/wait-for.js';

let handled = 0;
let release: () => void = () => undefined;

@Controller('lab')
class LabController {
  @Get('ping')
  ping(): string {
    handled++;
    return 'pong';
  }

  /** Answers once the test lets it go. */
  @Get('hold')
  async hold(): Promise<string> {
    await new Promise<void>((resolve) => (release = resolve));
    return 'released';
  }
}

async function startApp(
  adapter: AdapterName,
  shutdown: Partial<ShutdownOptions>,
  logger: CapturingLogger | false = false,
): Promise<{ app: INestApplication; port: number; provider: SimulatedProvider }> {
  const provider = await SimulatedProvider.start({ apiKey: TEST_API_KEY });
  const moduleRef = await Test.createTestingModule({
    imports: [
      InferenceModule.forRoot({
        providers: {
          sim: { baseUrl: provider.baseUrl, apiKey: TEST_API_KEY, defaultModel: 'sim-model' },
        },
        shutdown,
      }),
    ],
    controllers: [LabController],
    providers: [{ provide: APP_FILTER, useClass: InferenceExceptionFilter }],
  }).compile();
  const app = moduleRef.createNestApplication(adapters[adapter](), { logger });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, port, provider };
}

const PING = rawRequest('GET', '/lab/ping');

/** Resolves with how long `promise` took, in ms. */
async function timed(promise: Promise<unknown>): Promise<number> {
  const startedAt = Date.now();
  await promise;
  return Date.now() - startedAt;
}

describe.each(['express', 'fastify'] as const)('connections during the drain, on %s', (adapter) => {
  let app: INestApplication | undefined;
  let provider: SimulatedProvider | undefined;
  const sockets: RawConnection[] = [];
  afterEach(async () => {
    release();
    for (const socket of sockets) socket.socket.destroy();
    sockets.length = 0;
    await app?.close();
    await provider?.close();
    app = undefined;
    provider = undefined;
  });

  async function connect(port: number): Promise<RawConnection> {
    const socket = await openSocket(port);
    sockets.push(socket);
    return socket;
  }

  it("with idleConnections 'close' (the default under a test runner), idle sockets close once nothing is in flight", async () => {
    let port: number;
    ({ app, port, provider } = await startApp(adapter, {}));
    const idle = await connect(port);
    expect(await idle.send(PING)).toMatch(/^HTTP\/1\.1 200 /);
    const closing = app.close();
    app = undefined;
    expect(await timed(closing)).toBeLessThan(500);
    await idle.closed;
  });

  it("with idleConnections 'expire', an idle socket stays open until its keep-alive expiry, and a request on it is served with Connection: close", async () => {
    let port: number;
    ({ app, port, provider } = await startApp(adapter, {
      idleConnections: 'expire',
      keepAliveTimeoutMs: 1_000,
    }));
    // Another library's listener: the drain must not take it off the server.
    let seenByOthers = 0;
    (app.getHttpServer() as Server).on('request', () => seenByOthers++);
    const reused = await connect(port);
    const idle = await connect(port);
    expect(await reused.send(PING)).toMatch(/\r\nkeep-alive: timeout=1\r\n/i);
    expect(await idle.send(PING)).toMatch(/\r\nkeep-alive: timeout=1\r\n/i);
    const idleSince = Date.now();

    const closing = app.close();
    app = undefined;
    await delay(300);
    // The listener is closed, the idle sockets are not.
    await expect(openSocket(port)).rejects.toThrow(/ECONNREFUSED/);
    expect([reused.socket.destroyed, idle.socket.destroyed]).toEqual([false, false]);
    const late = await reused.send(PING);
    expect(late).toMatch(/^HTTP\/1\.1 200 /);
    expect(late).toMatch(/\r\nconnection: close\r\n/i);
    expect(seenByOthers).toBe(3);
    await reused.closed;

    // The other one expires as the server said: not before 1 s idle; Node adds 1 s to that.
    const closedAt = await idle.closed;
    expect(closedAt - idleSince).toBeGreaterThanOrEqual(1_000);
    expect(closedAt - idleSince).toBeLessThan(2_000 + 300);
    expect(idle.error()).toBeUndefined();
    await closing;
    expect(Date.now() - closedAt).toBeLessThan(300);
  });

  it('a connection the kernel queued while the event loop was blocked as the readiness delay ended is served, not reset', async () => {
    let port: number;
    ({ app, port, provider } = await startApp(adapter, { readinessDelayMs: 200 }));
    const coordinator = app.get(ShutdownCoordinator);
    const closing = app.close();
    app = undefined;
    await waitFor(() => coordinator.phase === 'readiness-delay', 'the readiness delay');
    // A caller on another thread connects and sends a request while this thread is blocked,
    // from before the delay's end until after it: the connection waits in the kernel's queue.
    const caller = new Worker(
      `const { connect } = require('node:net');
       const { parentPort, workerData } = require('node:worker_threads');
       setTimeout(() => {
         const socket = connect(workerData.port, '127.0.0.1');
         let text = '';
         socket.on('connect', () => socket.write(workerData.request));
         socket.on('data', (data) => (text += data));
         socket.on('error', (error) => parentPort.postMessage('error ' + error.code));
         socket.on('close', () => parentPort.postMessage(text));
       }, 50);`,
      { eval: true, workerData: { port, request: PING } },
    );
    const answer = new Promise<string>((resolve) => caller.once('message', resolve));
    const until = Date.now() + 400;
    while (Date.now() < until);
    await closing;
    expect(await answer).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\nconnection: close\r\n/i);
    await caller.terminate();
  });

  it('after the drain deadline, a request on an old socket is answered 503 at the door, without reaching the app', async () => {
    let port: number;
    ({ app, port, provider } = await startApp(adapter, {
      drainTimeoutMs: 300,
      abandonGraceMs: 1_000,
    }));
    const coordinator = app.get(ShutdownCoordinator);
    const registry = app.get(InflightRegistry);
    const old = await connect(port);
    expect(await old.send(PING)).toMatch(/^HTTP\/1\.1 200 /);
    const holding = await connect(port);
    holding.socket.write(rawRequest('GET', '/lab/hold'));
    await waitFor(() => registry.size === 1, 'the held request');
    const handledBefore = handled;

    const closing = app.close();
    app = undefined;
    await waitFor(() => coordinator.phase === 'abandoning', 'the deadline', 2_000);
    const refused = await old.send(PING);
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(refused).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: { code: 'shutting_down' },
    });
    expect(handled).toBe(handledBefore);
    await closing;
    expect(coordinator.summary).toMatchObject({ rejected: 1, abandoned: 1 });
  });

  it('warns at startup when an idle connection could outlive the drain; at the deadline it is closed', async () => {
    const logger = new CapturingLogger();
    let port: number;
    ({ app, port, provider } = await startApp(
      adapter,
      { idleConnections: 'expire', keepAliveTimeoutMs: 65_000, drainTimeoutMs: 300 },
      logger,
    ));
    const warnings = () => logger.lines.filter((line) => line.startsWith('warn')).join('\n');
    expect(warnings()).toMatch(
      /an idle keep-alive connection lives 66000 ms \(shutdown\.keepAliveTimeoutMs \+ Node's 1 s\), longer than readinessDelayMs \+ drainTimeoutMs \(300 ms\)/,
    );
    const coordinator = app.get(ShutdownCoordinator);
    const idle = await connect(port);
    expect(await idle.send(PING)).toMatch(/\r\nkeep-alive: timeout=65\r\n/i);
    const closing = app.close();
    app = undefined;
    expect(await timed(closing)).toBeLessThan(300 + 300);
    await idle.closed;
    expect(warnings()).toMatch(
      /the drain deadline ended the drain with nothing in flight and 1 idle connections open; closing them/,
    );
    expect(coordinator.summary).toMatchObject({ abandoned: 0 });
  });
});
