import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedProvider } from '../../lib/testing/index.js';
import {
  PROMPT,
  callGateway,
  contentOf,
  expectedContent,
  newPool,
  type CallResult,
} from './support/load.js';
import { openSocket, rawRequest } from '../support/raw-connection.js';
import { startSample, type SampleProcess } from './support/sample-process.js';
import { waitFor, within } from '../support/wait-for.js';
import { API_KEY, startSlowProvider, upstreamEnv } from './support/upstream.js';

const CHUNKS = 12;

describe.each(['express', 'fastify'] as const)(
  'shutdown of the sample gateway on %s',
  (adapter) => {
    let sample: SampleProcess | undefined;
    let provider: SimulatedProvider | undefined;
    afterEach(async () => {
      sample?.kill('SIGKILL');
      await provider?.close();
      sample = undefined;
      provider = undefined;
    });

    it('drops nothing: 200 unary calls and 50 streams in flight at SIGTERM all complete', async () => {
      provider = await SimulatedProvider.start({
        apiKey: API_KEY,
        chunks: CHUNKS,
        latency: { firstByteMs: [1_000, 3_000], perChunkMs: 20 },
      });
      sample = await startSample({
        ...upstreamEnv(provider),
        HTTP_ADAPTER: adapter,
        READINESS_DELAY_MS: '500',
        DRAIN_TIMEOUT_MS: '30000',
      });
      const { url, port } = sample;
      const pool = newPool(url, 300);
      // Probes with connections open in advance: from the signal on, each answer closes its own.
      const probes = newPool(url, 8);
      const probe = async (): Promise<number> => {
        const response = await probes.request({ method: 'GET', path: '/health/ready' });
        await response.body.dump();
        return response.statusCode;
      };
      // A keep-alive socket that is idle when the signal comes, and a request half sent.
      const usedIdle = await openSocket(port);
      expect(await usedIdle.send(rawRequest('GET', '/health/live'))).toMatch(/^HTTP\/1\.1 200 /);
      const partial = await openSocket(port);
      partial.socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\n');

      const calls: Promise<CallResult>[] = [];
      for (let index = 0; index < 200; index++)
        calls.push(callGateway(pool, `unary-${index}`, false));
      for (let index = 0; index < 50; index++)
        calls.push(callGateway(pool, `stream-${index}`, true));
      // The module's pool holds 128 connections per provider: the rest wait in its queue.
      await waitFor(
        () => pool.stats.running >= 250 && provider!.inProgress >= 128,
        '250 calls in flight',
        5_000,
      );
      expect(await Promise.all(Array.from({ length: 8 }, probe))).toEqual(Array(8).fill(200));

      const signalledAt = Date.now();
      sample.kill('SIGTERM');
      let notReadyAt: number | undefined;
      while (notReadyAt === undefined) if ((await probe()) === 503) notReadyAt = Date.now();
      // Step 1: readiness fails at once. The flip is timed by the replica's own events (each
      // written in the same tick as what it reports): from the tick in which the signal is handled
      // to the state change. How long a replica busy with 250 calls takes to reach that tick is
      // its event loop's, bounded below by what a probe sees.
      await waitFor(() => sample!.events('shutdown-phase').length > 0, 'the first shutdown event');
      const [flipped] = sample.events('shutdown-phase');
      const [received] = sample.events('signal');
      expect(flipped).toMatchObject({ phase: 'readiness-delay' });
      expect(received).toMatchObject({ signal: 'SIGTERM' });
      expect((flipped!.at as number) - (received!.at as number)).toBeLessThanOrEqual(10);
      expect(notReadyAt - signalledAt).toBeLessThan(250); // and a probe sees it, well inside the delay
      await probes.close();

      // Step 2: during the readiness delay, liveness and the routes answer as usual, on new
      // connections too, and every answer tells the client to leave its socket.
      const duringDelay = newPool(url, 2);
      const live = await duringDelay.request({ method: 'GET', path: '/health/live' });
      await live.body.dump();
      expect(live.statusCode).toBe(200);
      expect(live.headers.connection).toBe('close');
      calls.push(callGateway(duringDelay, 'during-delay', false));
      await waitFor(() => duringDelay.stats.running >= 1, 'the call made during the delay', 1_000);
      expect(Date.now() - signalledAt).toBeLessThan(500);

      // Step 3: once the delay is over, the listener is closed; open sockets are left alone.
      await delay(500 + 150 - (Date.now() - signalledAt));
      const refused = await callGateway(newPool(url, 1), 'after-close', false);
      expect(refused.error).toMatch(/ECONNREFUSED/);
      // A request that arrives on an old socket now is served like any in flight, with close.
      expect(usedIdle.socket.destroyed).toBe(false);
      const chat = rawRequest('POST', '/v1/chat/completions', JSON.stringify(PROMPT));
      const onOldSockets = [
        usedIdle.send(chat),
        partial.send(chat.slice(chat.indexOf('\r\n') + 2 + 'Host: gateway\r\n'.length)),
      ].map((answer) => answer.then((text) => ({ text, endedAt: Date.now() })));

      // Step 4: every call in flight completes, whole.
      const results = await Promise.all(calls);
      const lateAnswers = await Promise.all(onOldSockets);
      for (const { text } of lateAnswers) {
        expect(text).toMatch(/^HTTP\/1\.1 200 /);
        expect(text).toMatch(/\r\nconnection: close\r\n/i);
        expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({
          choices: [{ message: { content: expectedContent(CHUNKS) } }],
        });
      }
      await within(
        Promise.all([usedIdle.closed, partial.closed]),
        1_000,
        'both connections’ close',
      );
      expect([usedIdle.error(), partial.error()]).toEqual([undefined, undefined]);
      const lastEndedAt = Math.max(
        ...results.map((result) => result.endedAt),
        ...lateAnswers.map((answer) => answer.endedAt),
      );
      for (const result of results) {
        expect({ id: result.id, status: result.status, error: result.error }).toEqual({
          id: result.id,
          status: 200,
          error: undefined,
        });
        const { text, done } = contentOf(result);
        expect(text).toBe(expectedContent(CHUNKS));
        expect(done).toBe(true);
      }
      // Responses started after the drain began tell the client to close the connection.
      const lateUnary = results.filter((r) => !r.stream && r.endedAt > signalledAt + 600);
      expect(lateUnary.length).toBeGreaterThan(0);
      expect(lateUnary.filter((r) => r.connection !== 'close').map((r) => r.id)).toEqual([]);
      expect(results).toHaveLength(251);

      const exit = await within(sample.exited, 10_000, 'the sample’s exit', sample.output);
      expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
      const [summary] = sample.events('shutdown-summary');
      expect(summary).toMatchObject({ abandoned: 0, forced: false });
      expect(summary!.completed as number).toBeGreaterThanOrEqual(253);
      expect(summary!.rejected).toBe(0);
      // The drain ends as the last request ends: event-driven, no polling.
      expect(summary!.at as number).toBeLessThanOrEqual(lastEndedAt + 50);
      expect(summary!.at as number).toBeGreaterThanOrEqual(lastEndedAt - 50);
      // The app's own onModuleDestroy ran once, after the drain: no handler found the ledger closed.
      expect(sample.output().match(/Usage ledger closed: 253 requests/g)).toHaveLength(1);
      expect(sample.output()).not.toMatch(/ERROR|ledger is closed/);
      expect(provider.aborted).toBe(0);
      expect(sample.output()).not.toContain(API_KEY);
      await Promise.all([pool.close(), duringDelay.close()]);
    }, 30_000);

    it('at the drain deadline, ends open streams with a terminal event, aborts upstream and exits 75', async () => {
      provider = await startSlowProvider();
      sample = await startSample({
        ...upstreamEnv(provider),
        HTTP_ADAPTER: adapter,
        DRAIN_TIMEOUT_MS: '800',
      });
      const pool = newPool(sample.url, 20);
      const calls: Promise<CallResult>[] = [];
      for (let index = 0; index < 4; index++)
        calls.push(callGateway(pool, `slow-stream-${index}`, true));
      for (let index = 0; index < 3; index++)
        calls.push(callGateway(pool, `slow-unary-${index}`, false));
      await waitFor(() => provider!.inProgress >= 7, '7 calls in flight upstream', 5_000);
      await delay(400); // the streams have delivered their first chunks

      const signalledAt = Date.now();
      sample.kill('SIGTERM');
      const results = await Promise.all(calls);
      const exit = await within(sample.exited, 5_000, 'the sample’s exit', sample.output);
      expect(exit.code).toBe(75);
      expect(exit.at - signalledAt).toBeLessThan(800 + 1_000 + 1_000);

      for (const result of results.filter((r) => r.stream)) {
        const { text, done, errorFrame } = contentOf(result);
        expect(result.status).toBe(200);
        expect(text.length).toBeGreaterThan(0);
        expect(done).toBe(false);
        expect(errorFrame).toBe('shutting_down');
      }
      for (const result of results.filter((r) => !r.stream)) {
        expect(result.status).toBe(503);
        expect(result.retryAfter).toBe('1');
        expect(JSON.parse(result.body).error.code).toBe('shutting_down');
      }
      await provider.settled();
      expect(provider.aborted).toBe(7);
      for (const result of results) {
        expect(sample.output()).toMatch(new RegExp(`abandoned request ${result.id} `));
      }
      expect(sample.events('shutdown-summary')[0]).toMatchObject({ abandoned: 7, forced: false });
      expect(sample.output()).not.toContain(API_KEY);
      await pool.close();
    }, 20_000);

    it('a second signal during the drain ends it at once; hooks run once', async () => {
      provider = await startSlowProvider();
      sample = await startSample({ ...upstreamEnv(provider), HTTP_ADAPTER: adapter });
      const pool = newPool(sample.url, 4);
      const calls = [callGateway(pool, 'long-a', true), callGateway(pool, 'long-b', false)];
      await waitFor(() => provider!.inProgress >= 2, '2 calls in flight upstream', 5_000);

      sample.kill('SIGTERM');
      await delay(300);
      const secondAt = Date.now();
      sample.kill('SIGINT');
      const exit = await within(sample.exited, 5_000, 'the sample’s exit', sample.output);
      expect(exit.code).toBe(75);
      expect(exit.at - secondAt).toBeLessThan(1_500);
      await Promise.all(calls);
      expect(sample.output()).toMatch(/SIGINT received during the drain; ending the drain now/);
      expect(sample.output().match(/Usage ledger closed/g)).toHaveLength(1);
      expect(sample.output().match(/Shutdown summary/g)).toHaveLength(1);
      expect(sample.events('shutdown-summary')[0]).toMatchObject({ forced: true, abandoned: 2 });
      await pool.close();
    }, 20_000);

    it('idle and never-used sockets are not closed under their clients: they expire by the keep-alive timeout, then the process exits', async () => {
      sample = await startSample({ HTTP_ADAPTER: adapter, KEEP_ALIVE_TIMEOUT_MS: '2000' });
      const used = await openSocket(sample.port);
      const answer = await used.send(rawRequest('GET', '/health/live'));
      const answeredAt = Date.now();
      // The module sets the server's keep-alive timeout (Fastify's own default is 72 s).
      expect(answer).toMatch(/\r\nkeep-alive: timeout=2\r\n/i);
      const neverUsed = await openSocket(sample.port);
      const signalledAt = Date.now();
      sample.kill('SIGTERM');
      const exit = await within(sample.exited, 6_000, 'the sample’s exit', sample.output);
      expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
      const [usedClosedAt, neverUsedClosedAt] = await Promise.all([used.closed, neverUsed.closed]);
      // Not before the timeout the server advertised; Node closes an idle socket 1 s past it, and
      // the module gives a socket that never sent a byte as long from the signal.
      expect(usedClosedAt - answeredAt).toBeGreaterThanOrEqual(2_000);
      expect(usedClosedAt - answeredAt).toBeLessThan(3_000 + 500);
      expect(neverUsedClosedAt - signalledAt).toBeGreaterThanOrEqual(2_000);
      expect(neverUsedClosedAt - signalledAt).toBeLessThan(3_000 + 500);
      expect([used.error(), neverUsed.error()]).toEqual([undefined, undefined]);
      // The drain ends as the last of them closes.
      expect(exit.at - Math.max(usedClosedAt, neverUsedClosedAt)).toBeLessThan(500);
    });
  },
);
