import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../lib/client/clock.js';
import type { RolloutEvent } from '../../../lib/index.js';
import { RolloutWebhook } from '../../../lib/canary/rollout.webhook.js';
import { CapturingLogger } from '../../support/inference-harness.js';

const event = (type: RolloutEvent['type']) => ({ type, at: 1 }) as RolloutEvent;

describe('rollout webhook close()', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  /** An endpoint that fails every delivery with `status`, or never answers (0). */
  async function endpoint(status: number) {
    const received: string[] = [];
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      request.resume();
      received.push(request.url ?? '');
      if (status > 0) response.writeHead(status).end();
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    close = async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    };
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
    return { url, received };
  }

  it('stops retrying and releases its backoff timer at once', async () => {
    const { url, received } = await endpoint(503);
    const logger = new CapturingLogger();
    const webhook = new RolloutWebhook(
      { url, timeoutMs: 200, retries: 3, headers: {} },
      logger,
      systemClock,
    );
    webhook.send(event('started'));
    webhook.send(event('advanced'));
    await delay(100); // the first attempt failed: the webhook waits 250 ms before its retry
    expect(received).toHaveLength(1);
    const startedAt = performance.now();
    await webhook.close();
    expect(performance.now() - startedAt).toBeLessThan(100);
    // The queued event had its one attempt, without retry; the first got no more.
    expect(received).toHaveLength(2);
    await delay(1_000); // past every backoff it had planned: nothing more is sent
    expect(received).toHaveLength(2);
    expect(logger.lines.join('\n')).toMatch(/did not take the started event \(AbortError\)/);
  });

  it('gives a stuck delivery one attempt’s time, then sends nothing more', async () => {
    const { url, received } = await endpoint(0);
    const logger = new CapturingLogger();
    const webhook = new RolloutWebhook(
      { url, timeoutMs: 300, retries: 3, headers: {} },
      logger,
      systemClock,
    );
    for (const type of ['started', 'advanced', 'promoted'] as const) webhook.send(event(type));
    await delay(50);
    const startedAt = performance.now();
    await webhook.close();
    expect(performance.now() - startedAt).toBeLessThan(500);
    const sent = received.length;
    await delay(1_000); // the events still queued are not sent once close() returned
    expect(received).toHaveLength(sent);
    expect(sent).toBeLessThan(3);
    expect(logger.lines.join('\n')).toMatch(/closed with \d event\(s\) undelivered/);
  });
});
