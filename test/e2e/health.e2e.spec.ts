import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { InferenceModule, InferenceService, ShutdownCoordinator } from '../../lib/index.js';
import { ProviderRegistry } from '../../lib/client/provider.registry.js';
import { InferenceHealthIndicator } from '../../lib/health/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { startHttpApp } from '../support/http-app.js';
import { TEST_API_KEY, hello } from '../support/inference-harness.js';
import { waitFor } from '../support/wait-for.js';

/** A listener that accepts connections and never answers. */
async function blackHole(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('Terminus indicators (nestjs-inference/terminus)', () => {
  let app: INestApplication | undefined;
  let provider: SimulatedProvider | undefined;
  let hole: { url: string; close: () => Promise<void> } | undefined;
  afterEach(async () => {
    await app?.close();
    await provider?.close();
    await hole?.close();
    app = provider = hole = undefined;
  });

  async function start(port = 0): Promise<InferenceHealthIndicator> {
    provider = await SimulatedProvider.start({ apiKey: TEST_API_KEY, chunks: 2, port });
    hole = await blackHole();
    ({ app } = await startHttpApp('express', {
      imports: [
        TerminusModule,
        InferenceModule.forRoot({
          providers: {
            sim: {
              baseUrl: provider.baseUrl,
              apiKey: TEST_API_KEY,
              defaultModel: 'sim-model',
              retry: { maxRetries: 0 },
            },
            hole: {
              baseUrl: hole.url,
              apiKey: TEST_API_KEY,
              defaultModel: 'm',
              retry: { maxRetries: 0 },
              timeouts: { headersMs: 50 },
            },
          },
          defaultProvider: 'sim',
          shutdown: { readinessDelayMs: 300 },
        }),
      ],
      providers: [InferenceHealthIndicator],
    }));
    return app.get(InferenceHealthIndicator);
  }

  it('probes a provider without spending tokens, bounded in time, never throwing', async () => {
    const health = await start();
    const up = await health.provider('sim');
    expect(up.sim).toMatchObject({ status: 'up', provider: 'sim' });
    expect(provider!.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/models' });
    expect(provider!.requests.filter((request) => request.path.endsWith('/completions'))).toEqual(
      [],
    );

    const startedAt = Date.now();
    const down = await health.provider('upstream', { provider: 'hole', timeoutMs: 200 });
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(down.upstream).toEqual({ status: 'down', provider: 'hole', reason: 'timed out' });
    expect((await health.provider('x', { provider: 'nope' })).x).toMatchObject({ status: 'down' });
    expect(JSON.stringify([up, down])).not.toContain(TEST_API_KEY);
  });

  it('readiness ignores provider health unless asked; asked, it is down while no provider is usable', async () => {
    const health = await start();
    const service = app!.get(InferenceService);
    const strict = { requireUsableProvider: true, recoveryProbeIntervalMs: 60_000 };
    expect(health.readiness('inference', strict).inference.status).toBe('up');
    // The black hole counts as failing after 5 timed-out calls; sim after 5 server errors.
    provider!.failNext({ type: 'status', status: 500 }, 5);
    for (let index = 0; index < 5; index++) {
      await service.chat(hello).catch(() => undefined);
      await service.chat(hello, { provider: 'hole' }).catch(() => undefined);
    }
    expect(health.readiness().inference.status).toBe('up');
    expect(health.readiness('inference', strict)).toEqual({
      inference: {
        status: 'down',
        reason: 'no provider is usable',
        providers: { sim: 'upstream_http_error', hole: 'upstream_timeout' },
      },
    });
    await service.chat(hello);
    expect(health.readiness('inference', strict).inference.status).toBe('up');
  });

  it('does not count a deadline the caller chose against the provider', async () => {
    const health = await start();
    const service = app!.get(InferenceService);
    const hole = app!.get(ProviderRegistry).get('hole', 'test');
    for (let index = 0; index < 6; index++) {
      await service
        .chat(hello, { provider: 'hole', timeouts: { totalMs: 20 } })
        .catch(() => undefined);
    }
    expect([hole.health.usable, hole.health.consecutiveFailures]).toEqual([true, 0]);
    expect(health.readiness().inference.status).toBe('up');
  });

  it('readiness recovers after a provider outage ends, without any call routed to the replica', async () => {
    const health = await start();
    const service = app!.get(InferenceService);
    const port = provider!.port;
    const strict = { requireUsableProvider: true, recoveryProbeIntervalMs: 50 };
    await provider!.close(); // the outage: connections refused
    for (let index = 0; index < 5; index++) {
      await service.chat(hello).catch(() => undefined);
      await service.chat(hello, { provider: 'hole' }).catch(() => undefined);
    }
    expect(health.readiness('inference', strict).inference.status).toBe('down');
    await delay(200); // probes fail while the outage lasts
    expect(health.readiness('inference', strict).inference.status).toBe('down');
    provider = await SimulatedProvider.start({ apiKey: TEST_API_KEY, chunks: 2, port });
    await waitFor(
      () => health.readiness('inference', strict).inference.status === 'up',
      'readiness to recover',
      2_000,
    );
    expect(provider.requests.map((request) => `${request.method} ${request.path}`)).not.toContain(
      'POST /v1/chat/completions',
    );
    expect(provider.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/models' });
  });

  it('readiness fails from the start of the shutdown; liveness stays up through the drain', async () => {
    const health = await start();
    const coordinator = app!.get(ShutdownCoordinator);
    const closing = app!.close();
    app = undefined;
    await delay(20);
    expect(coordinator.phase).toBe('readiness-delay');
    expect(health.readiness().inference).toMatchObject({ status: 'down', reason: 'shutting down' });
    expect(health.liveness().inference).toMatchObject({ status: 'up', phase: 'readiness-delay' });
    await closing;
  });
});
