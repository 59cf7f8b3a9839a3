import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RolloutEvent } from '../../../lib/canary/index.js';
import { RolloutWebhook } from '../../../lib/canary/rollout.webhook.js';
import { CapturingLogger } from '../../support/inference-harness.js';
import { ManualClock } from '../../support/manual-clock.js';
import { waitFor } from '../../support/wait-for.js';

const event = (type: RolloutEvent['type']) => ({ type, at: 1 }) as RolloutEvent;

/** Lets what is already running (sockets, promises) move on, without moving the clock. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

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
    const clock = new ManualClock();
    const options = { url, timeoutMs: 200, retries: 3, headers: {} };
    const webhook = new RolloutWebhook(options, logger, clock);
    webhook.send(event('started'));
    webhook.send(event('advanced'));
    // The first attempt failed: the webhook waits 250 ms on its clock before its retry (its
    // attempt's 200 ms bound is released).
    await waitFor(() => clock.nextDueAt === 250, 'the backoff');
    expect(received).toHaveLength(1);
    expect(clock.pendingTimers).toBe(1);
    // The clock does not move: close() cannot wait for the backoff, nor for any bound.
    await webhook.close();
    expect(clock.now()).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    // The queued event had its one attempt, without retry; the first got no more.
    expect(received).toHaveLength(2);
    clock.advance(1_000); // past every backoff it had planned: nothing more is sent
    await settle();
    expect(received).toHaveLength(2);
    expect(logger.lines.join('\n')).toMatch(/did not take the started event \(AbortError\)/);
  });

  it('gives a stuck delivery one attempt’s time, then sends nothing more', async () => {
    const { url, received } = await endpoint(0);
    const logger = new CapturingLogger();
    const clock = new ManualClock();
    const options = { url, timeoutMs: 300, retries: 3, headers: {} };
    const webhook = new RolloutWebhook(options, logger, clock);
    for (const type of ['started', 'advanced', 'promoted'] as const) webhook.send(event(type));
    await waitFor(() => received.length === 1, 'the first attempt');
    let closed = false;
    const closing = webhook.close().then(() => (closed = true));
    await settle();
    clock.advance(299);
    await settle();
    expect(closed).toBe(false); // one attempt's time: not a millisecond less
    clock.advance(1);
    await closing;
    expect(clock.pendingTimers).toBe(0);
    const sent = received.length;
    clock.advance(1_000); // the events still queued are not sent once close() returned
    await settle();
    expect(received).toHaveLength(sent);
    expect(sent).toBeLessThan(3);
    expect(logger.lines.join('\n')).toMatch(/closed with \d event\(s\) undelivered/);
  });
});
