import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedProvider } from '../../lib/testing/index.js';
import {
  callGateway,
  contentOf,
  expectedContent,
  newPool,
  type CallResult,
} from './support/load.js';
import { startSample, type SampleExit, type SampleProcess } from './support/sample-process.js';
import { waitFor, within } from '../support/wait-for.js';
import { API_KEY, startSlowProvider, upstreamEnv } from './support/upstream.js';

/**
 * `enableInferenceShutdownHooks(app)` against `app.enableShutdownHooks()`, on whichever Nest major
 * is installed (CI runs this file on Nest 12 and again on Nest 11). The sample takes the helper
 * with `SHUTDOWN_HOOKS=inference`; its `UsageLedger` (root module) closes in `onModuleDestroy`
 * and logs how many requests it recorded, so the log shows whether the drain came first.
 */
const NEST_MAJOR = Number(
  (
    createRequire(import.meta.url)('@nestjs/core/package.json') as { version: string }
  ).version.split('.')[0],
);
const CHUNKS = 8;
const HELPER_WARNING = /has no beforeClose\(\) \(Nest 11\).*enableInferenceShutdownHooks\(app\)/;

interface ShutdownOutcome {
  exit: Pick<SampleExit, 'code' | 'signal'>;
  statuses: number[];
  complete: boolean[];
  /** The shutdown summary was written before the app's own onModuleDestroy ran. */
  drainedBeforeAppHooks: boolean;
  ledgerClosed: string | undefined;
  summary: Record<string, unknown> | undefined;
  warned: boolean;
  output: string;
}

describe(`shutdown hooks on Nest ${NEST_MAJOR}`, () => {
  let sample: SampleProcess | undefined;
  let provider: SimulatedProvider | undefined;
  afterEach(async () => {
    sample?.kill('SIGKILL');
    await provider?.close();
    sample = undefined;
    provider = undefined;
  });

  /** Two unary calls and two streams in flight at SIGTERM, 300 ms of readiness delay. */
  async function shutdownWithWorkInFlight(
    hooks: 'nest' | 'inference',
    adapter: 'express' | 'fastify' = 'express',
  ): Promise<ShutdownOutcome> {
    provider = await SimulatedProvider.start({
      apiKey: API_KEY,
      chunks: CHUNKS,
      latency: { firstByteMs: 600, perChunkMs: 40 },
    });
    sample = await startSample({
      ...upstreamEnv(provider),
      HTTP_ADAPTER: adapter,
      SHUTDOWN_HOOKS: hooks,
      READINESS_DELAY_MS: '300',
      DRAIN_TIMEOUT_MS: '10000',
    });
    const pool = newPool(sample.url, 8);
    const calls: Promise<CallResult>[] = [
      callGateway(pool, 'unary-1', false),
      callGateway(pool, 'unary-2', false),
      callGateway(pool, 'stream-1', true),
      callGateway(pool, 'stream-2', true),
    ];
    await waitFor(() => provider!.inProgress >= 4, '4 calls in flight upstream', 5_000);
    sample.kill('SIGTERM');
    const results = await Promise.all(calls);
    const exit = await within(sample.exited, 10_000, 'the sample’s exit', sample.output);
    await pool.close();
    const output = sample.output();
    const summaryAt = output.indexOf('"event":"shutdown-summary"');
    const ledgerAt = output.indexOf('Usage ledger closed');
    return {
      exit: { code: exit.code, signal: exit.signal },
      statuses: results.map((result) => result.status),
      complete: results.map((result) => contentOf(result).text === expectedContent(CHUNKS)),
      drainedBeforeAppHooks: summaryAt >= 0 && ledgerAt > summaryAt,
      ledgerClosed: /Usage ledger closed: \d+ requests/.exec(output)?.[0],
      summary: sample.events('shutdown-summary')[0],
      warned: HELPER_WARNING.test(output),
      output,
    };
  }

  describe.each(['express', 'fastify'] as const)('on %s', (adapter) => {
    it('enableInferenceShutdownHooks: requests in flight at SIGTERM complete, the drain ends before the app’s own onModuleDestroy, the signal ends the process', async () => {
      const outcome = await shutdownWithWorkInFlight('inference', adapter);
      expect(outcome.statuses).toEqual([200, 200, 200, 200]);
      expect(outcome.complete).toEqual([true, true, true, true]);
      expect(outcome.drainedBeforeAppHooks).toBe(true);
      // The ledger recorded all four, and closed once.
      expect(outcome.ledgerClosed).toBe('Usage ledger closed: 4 requests');
      expect(outcome.output.match(/Usage ledger closed/g)).toHaveLength(1);
      expect(outcome.output).not.toMatch(/ledger is closed|ERROR/);
      expect(outcome.summary).toMatchObject({ completed: 4, abandoned: 0, forced: false });
      expect(outcome.exit).toEqual({ code: null, signal: 'SIGTERM' });
      expect(outcome.warned).toBe(false);
    }, 30_000);
  });

  it('enableInferenceShutdownHooks: requests abandoned at the drain deadline end the process with 75', async () => {
    provider = await startSlowProvider();
    sample = await startSample({
      ...upstreamEnv(provider),
      SHUTDOWN_HOOKS: 'inference',
      DRAIN_TIMEOUT_MS: '600',
    });
    const pool = newPool(sample.url, 4);
    const calls = [callGateway(pool, 'slow-stream', true), callGateway(pool, 'slow-unary', false)];
    await waitFor(() => provider!.inProgress >= 2, '2 calls in flight upstream', 5_000);
    sample.kill('SIGTERM');
    const results = await Promise.all(calls);
    const exit = await within(sample.exited, 5_000, 'the sample’s exit', sample.output);
    await pool.close();
    expect(exit.code).toBe(75);
    expect(contentOf(results[0]!).errorFrame).toBe('shutting_down');
    expect(results[1]!.status).toBe(503);
    expect(sample.events('shutdown-summary')[0]).toMatchObject({ abandoned: 2, forced: false });
    expect(sample.output().match(/Usage ledger closed/g)).toHaveLength(1);
  }, 20_000);

  it('enableInferenceShutdownHooks: a second signal ends the drain at once, hooks run once, exit 75', async () => {
    provider = await startSlowProvider();
    sample = await startSample({ ...upstreamEnv(provider), SHUTDOWN_HOOKS: 'inference' });
    const pool = newPool(sample.url, 4);
    const calls = [callGateway(pool, 'long-a', true), callGateway(pool, 'long-b', false)];
    await waitFor(() => provider!.inProgress >= 2, '2 calls in flight upstream', 5_000);
    sample.kill('SIGTERM');
    await delay(300);
    const secondAt = Date.now();
    sample.kill('SIGINT');
    const exit = await within(sample.exited, 5_000, 'the sample’s exit', sample.output);
    await Promise.all(calls);
    await pool.close();
    expect(exit.code).toBe(75);
    expect(exit.at - secondAt).toBeLessThan(1_500);
    expect(sample.output()).toMatch(/SIGINT received during the drain; ending the drain now/);
    expect(sample.output().match(/Usage ledger closed/g)).toHaveLength(1);
    expect(sample.events('shutdown-summary')[0]).toMatchObject({ forced: true, abandoned: 2 });
  }, 20_000);

  it.runIf(NEST_MAJOR >= 12)(
    'Nest 12: app.enableShutdownHooks() alone gives the same shutdown as the helper',
    async () => {
      const normalise = (outcome: ShutdownOutcome) => {
        const { output: _output, summary, ...rest } = outcome;
        return { ...rest, summary: { ...summary, at: 0, durations: undefined } };
      };
      const withNest = normalise(await shutdownWithWorkInFlight('nest'));
      sample?.kill('SIGKILL');
      await provider?.close();
      const withHelper = normalise(await shutdownWithWorkInFlight('inference'));
      expect(withNest).toEqual(withHelper);
      expect(withNest.drainedBeforeAppHooks).toBe(true);
      expect(withNest.warned).toBe(false);
    },
    40_000,
  );

  it.runIf(NEST_MAJOR === 11)(
    'Nest 11: app.enableShutdownHooks() alone warns at startup naming the helper, and still drains (in onModuleDestroy)',
    async () => {
      const outcome = await shutdownWithWorkInFlight('nest');
      expect(outcome.warned).toBe(true);
      // The drain is not skipped: readiness flipped, the summary came, the signal ended it all.
      expect(outcome.summary).toMatchObject({ abandoned: 0, forced: false });
      expect(sample!.events('shutdown-phase').map((event) => event.phase)).toEqual([
        'readiness-delay',
        'draining',
        'closing',
      ]);
      expect(outcome.statuses.every((status) => status > 0)).toBe(true);
      expect(outcome.exit).toEqual({ code: null, signal: 'SIGTERM' });
      // What the helper is for: Nest 11 runs the root module's onModuleDestroy before the drain.
      expect(outcome.drainedBeforeAppHooks).toBe(false);
    },
    30_000,
  );
});
