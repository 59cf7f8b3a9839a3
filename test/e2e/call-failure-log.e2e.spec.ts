import { afterEach, describe, expect, it } from 'vitest';
import {
  CapturingLogger,
  collect,
  failure,
  hello,
  startHarness,
  TEST_API_KEY,
  type Harness,
} from '../support/inference-harness.js';
import { startRolloutApp } from '../support/rollout-app.js';
import { InferenceService } from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';

/** The lines a failed call leaves: one per call, once its retries are spent. */
const callLines = (logger: CapturingLogger) =>
  logger.lines.filter((line) => / call to provider /.test(line));

describe('a failed call leaves one log line (a simulated provider)', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('warns once for a unary call whose retries are spent, naming code, attempts and request', async () => {
    h = await startHarness({}, { retry: { maxRetries: 2 } });
    h.provider.failNext({ type: 'status', status: 500 }, 3);
    await failure(h.service.chat(hello, { requestId: 'req-unary-1' }));
    const lines = callLines(h.logger);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^warn 'chat call to provider "sim" \(model sim-model\) ended in upstream_http_error after 3 attempts and \d+ ms: .*\[request req-unary-1\]'/,
    );
    expect(h.logger.lines.join('\n')).not.toContain(TEST_API_KEY);
  });

  it("only debugs a call that ran out of the caller's own deadline, as the judge counts it", async () => {
    h = await startHarness({}, { retry: { maxRetries: 0 } });
    h.provider.failNext({ type: 'stall-before-headers' });
    await failure(
      h.service.chat(hello, { requestId: 'req-own-deadline', timeouts: { totalMs: 60 } }),
    );
    h.provider.failNext({ type: 'stall-before-headers' });
    await failure(collect(h.service.stream(hello, { timeouts: { firstChunkMs: 60 } })));
    const lines = callLines(h.logger);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^debug 'chat call .* ended in upstream_timeout .*req-own-deadline/);
    expect(lines[1]).toMatch(/^debug 'stream call .* ended in upstream_timeout/);
  });

  it('times a failed call on the module clock, like a successful one', async () => {
    // A clock whose every reading is ten seconds after the last: only it can give such durations.
    let skew = 0;
    const clock = {
      now: () => performance.timeOrigin + performance.now() + (skew += 10_000),
      setTimeout: (callback: () => void, ms: number) => setTimeout(callback, ms),
      clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
    };
    h = await startHarness(
      {},
      { retry: { maxRetries: 0 }, timeouts: { totalMs: 3_600_000 } },
      { clock },
    );
    h.provider.failNext({ type: 'status', status: 500 });
    await failure(h.service.chat(hello, { requestId: 'req-clock' }));
    const [line] = callLines(h.logger);
    const ms = Number(/after 1 attempt and (\d+) ms/.exec(line!)?.[1]);
    expect(ms).toBeGreaterThanOrEqual(10_000);
  });

  it('says nothing for a call that succeeded after a retry', async () => {
    h = await startHarness({}, { retry: { maxRetries: 2 } });
    h.provider.failNext({ type: 'status', status: 503 });
    await h.service.chat(hello);
    expect(callLines(h.logger)).toEqual([]);
  });

  it('warns for a stream that failed, and only debugs one its caller stopped', async () => {
    h = await startHarness(
      { chunks: 20, latency: { perChunkMs: 5 } },
      { retry: { maxRetries: 0 } },
    );
    h.provider.failNext({ type: 'status', status: 500 });
    await failure(collect(h.service.stream(hello, { requestId: 'req-stream-1' })));
    for await (const _chunk of h.service.stream(hello, { requestId: 'req-stream-2' })) break;
    await expect.poll(() => callLines(h!.logger).length, { timeout: 1_000, interval: 5 }).toBe(2);
    const [failed, stopped] = callLines(h.logger);
    expect(failed).toMatch(
      /^warn 'stream call .* ended in upstream_http_error after 1 attempt .*req-stream-1/,
    );
    expect(stopped).toMatch(/^debug 'stream call .* ended in aborted .*req-stream-2/);
  });

  it('only debugs a call refused for its own content (a 400), which its client is told', async () => {
    h = await startHarness({}, { retry: { maxRetries: 2 } });
    h.provider.failNext({ type: 'status', status: 400 });
    await failure(h.service.chat(hello, { requestId: 'req-bad-1' }));
    expect(callLines(h.logger)).toEqual([
      expect.stringMatching(
        /^debug 'chat call .* ended in upstream_http_error after 1 attempt .*req-bad-1/,
      ),
    ]);
  });

  it('warns for an embeddings call that failed', async () => {
    h = await startHarness({}, { retry: { maxRetries: 0 } });
    h.provider.failNext({ type: 'status', status: 500 });
    await failure(
      h.service.embed({ input: 'hi', model: 'sim-embed' }, { requestId: 'req-embed-1' }),
    );
    expect(callLines(h.logger)).toEqual([
      expect.stringMatching(
        /^warn 'embeddings call to provider "sim" \(model sim-embed\) ended in upstream_http_error .*req-embed-1/,
      ),
    ]);
  });
});

describe('a canary call that falls back', () => {
  it('warns that it fell back, and the stable answer leaves no line', async () => {
    const legacy = await SimulatedProvider.start({ chunks: 2 });
    const next = await SimulatedProvider.start({ chunks: 2 });
    const logger = new CapturingLogger();
    const provider = (sim: SimulatedProvider) => ({
      baseUrl: sim.baseUrl,
      apiKey: 'sk-any',
      defaultModel: 'm',
      retry: { maxRetries: 0 },
    });
    const app = await startRolloutApp(
      { legacy: provider(legacy), next: provider(next) },
      { phases: [{ weight: 100, durationMs: 3_600_000 }] },
      logger,
    );
    try {
      const service = app.get(InferenceService);
      next.failNext({ type: 'status', status: 503 });
      await service.chat(hello, { requestId: 'req-fallback-1' });
      expect(callLines(logger)).toEqual([
        expect.stringMatching(
          /^warn 'chat call to provider "next" .* ended in upstream_http_error .*; falling back to "legacy" \[request req-fallback-1\]'/,
        ),
      ]);
      // A stream that falls back, and then fails on stable too: one line for each side.
      next.failNext({ type: 'status', status: 503 });
      legacy.failNext({ type: 'status', status: 500 });
      await failure(collect(service.stream(hello, { requestId: 'req-fallback-2' })));
      expect(callLines(logger).slice(1)).toEqual([
        expect.stringMatching(
          /^warn 'stream call to provider "next" .*; falling back to "legacy" \[request req-fallback-2\]'/,
        ),
        expect.stringMatching(
          /^warn 'stream call to provider "legacy" .* ended in upstream_http_error .*\[request req-fallback-2\]'/,
        ),
      ]);
    } finally {
      await app.close();
      await Promise.all([legacy.close(), next.close()]);
    }
  });
});
