import { afterEach, describe, expect, it } from 'vitest';
import { InferenceAbortedError, type StreamSummary } from '../../lib/index.js';
import { hello, startHarness, type Harness } from '../support/inference-harness.js';

/** The contract: an abort reaches the upstream, and frees its socket, within this. */
const ABORT_BUDGET_MS = 100;

describe('cancellation', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  /** Waits until the provider saw the request's connection go, and returns how long that took. */
  async function upstreamAbortDelay(abortedAt: number): Promise<number> {
    await expect.poll(() => h.provider.aborted, { timeout: 1_000, interval: 2 }).toBe(1);
    return h.provider.requests[0]!.endedAt! - abortedAt;
  }

  async function expectSocketFreed(): Promise<void> {
    await expect.poll(() => h.registry.get('sim', 'x').stats.running, { timeout: 500 }).toBe(0);
  }

  it('unsubscribing from a stream aborts the upstream request', async () => {
    h = await startHarness({ chunks: 100, latency: { perChunkMs: 20 } });
    let summary: StreamSummary | undefined;
    let abortedAt = 0;
    const received: unknown[] = [];
    await new Promise<void>((resolve) => {
      const subscription = h.service.stream(hello, { onEnd: (s) => (summary = s) }).subscribe({
        next: (chunk) => {
          received.push(chunk);
          if (received.length === 3) {
            abortedAt = Date.now();
            subscription.unsubscribe();
            resolve();
          }
        },
      });
    });
    expect(await upstreamAbortDelay(abortedAt)).toBeLessThan(ABORT_BUDGET_MS);
    await expectSocketFreed();
    await expect.poll(() => summary?.outcome).toBe('aborted');
    expect(received).toHaveLength(3);
  });

  it('leaving a for-await loop early aborts the upstream request', async () => {
    h = await startHarness({ chunks: 100, latency: { perChunkMs: 20 } });
    let abortedAt = 0;
    let count = 0;
    for await (const _chunk of h.service.stream(hello)) {
      if (++count === 2) {
        abortedAt = Date.now();
        break;
      }
    }
    expect(await upstreamAbortDelay(abortedAt)).toBeLessThan(ABORT_BUDGET_MS);
    await expectSocketFreed();
  });

  it('an AbortSignal cancels a unary call waiting for headers', async () => {
    h = await startHarness({ latency: { firstByteMs: 5_000 } });
    const controller = new AbortController();
    const call = h.service.chat(hello, { signal: controller.signal });
    await expect.poll(() => h.provider.inProgress).toBe(1);
    const abortedAt = Date.now();
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(InferenceAbortedError);
    expect(Date.now() - abortedAt).toBeLessThan(ABORT_BUDGET_MS);
    expect(await upstreamAbortDelay(abortedAt)).toBeLessThan(ABORT_BUDGET_MS);
    await expectSocketFreed();
  });

  it('an AbortSignal cancels a stream mid-way, with a typed error and an aborted outcome', async () => {
    h = await startHarness({ chunks: 100, latency: { perChunkMs: 20 } });
    const controller = new AbortController();
    let summary: StreamSummary | undefined;
    const chunks: unknown[] = [];
    const consume = (async () => {
      for await (const chunk of h.service.stream(hello, {
        signal: controller.signal,
        onEnd: (s) => (summary = s),
      })) {
        chunks.push(chunk);
        if (chunks.length === 2) controller.abort();
      }
    })();
    await expect(consume).rejects.toBeInstanceOf(InferenceAbortedError);
    expect(summary).toMatchObject({ outcome: 'aborted', chunks: 2 });
    await expectSocketFreed();
  });

  it('an already aborted signal sends nothing', async () => {
    h = await startHarness();
    await expect(h.service.chat(hello, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      InferenceAbortedError,
    );
    expect(h.provider.attempts).toBe(0);
  });

  it('an abort during a retry backoff ends the call at once', async () => {
    h = await startHarness(
      {},
      { retry: { baseDelayMs: 5_000, maxDelayMs: 5_000 } },
      { random: () => 0.99 },
    );
    h.provider.failNext({ type: 'status', status: 503 });
    const controller = new AbortController();
    const call = h.service.chat(hello, { signal: controller.signal });
    await expect.poll(() => h.provider.attempts).toBe(1);
    const abortedAt = Date.now();
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(InferenceAbortedError);
    expect(Date.now() - abortedAt).toBeLessThan(ABORT_BUDGET_MS);
    expect(h.provider.attempts).toBe(1);
  });
});
