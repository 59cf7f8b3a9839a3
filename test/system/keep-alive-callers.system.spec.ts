import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { PROMPT, callGateway, expectedContent, newPool } from './support/load.js';
import { openSocket, rawRequest } from '../support/raw-connection.js';
import { waitFor } from '../support/wait-for.js';
import {
  KeepAliveCaller,
  type Address,
  type CallOutcome,
  type CallRecord,
  type CallerKind,
} from './support/keep-alive-callers.js';
import { startSample, type SampleProcess } from './support/sample-process.js';
import { API_KEY } from './support/upstream.js';

/**
 * Callers that hold keep-alive sockets to one replica, with no load balancer to retry for them,
 * across a real SIGTERM of the built sample. Each repetition is one replica process and 64
 * callers sending unary calls and streams (undici's Agent and Node's http.Agent; half send back to
 * back, half pause between calls so that their sockets are idle when the signal comes) until the
 * process has exited. Two kinds of callers share each replica:
 *
 * - through a Service, as in Kubernetes: each new connection goes to the replica while it is an
 *   endpoint (removed 50-150 ms after the signal, within the readiness delay, as the endpoints
 *   controller does once readiness fails), then to the other endpoints (here the simulated
 *   provider, which answers in the same format). Connections already open stay on the replica and
 *   the callers keep sending on them through the whole shutdown.
 * - by the replica's address (a stale endpoint): they reconnect to it until refused.
 *
 * What the module guarantees is checked on every call: no connection the server accepted is
 * reset, no answer is cut short or replaced by an error, every answer after the signal says
 * `Connection: close`, and a call fails only once the listener is closed: at connect, or because
 * the kernel resets the connections it had queued for the listening socket and the process had
 * not accepted yet (a request possibly written on them). Those are told apart with the replica's
 * own record of what it accepted (Node's `net.server.socket` channel) and counted: a caller that
 * keeps connecting to a closing listener meets them; through a Service they need a replica that
 * did not run for most of the readiness delay.
 *
 * The server advertises `Keep-Alive: timeout=3`: undici closes an idle socket after 1 s, Node's
 * agent after 2 s, the server after 4 s. The readiness delay is shorter than the keep-alive
 * timeout (idle sockets are still open when the listener closes, and what arrives on them is
 * served) or as long as the server's 4 s (every socket idle at the signal is gone by then).
 * Repetitions run on three replicas at a time; the next one boots and warms up while one drains.
 */
const REPETITIONS_PER_CASE = Number(process.env.KEEP_ALIVE_REPETITIONS ?? 10);
const PARALLEL_REPLICAS = Number(process.env.KEEP_ALIVE_PARALLEL ?? 3);
const KEEP_ALIVE_TIMEOUT_MS = 3_000;
const CALLERS_PER_GROUP = 16;
const CHUNKS = 12;
const PRELOAD = fileURLToPath(new URL('./support/report-connections.mjs', import.meta.url));
const CASES = [
  { name: 'shorter', readinessDelayMs: 1_000 },
  { name: 'longer', readinessDelayMs: KEEP_ALIVE_TIMEOUT_MS + 1_000 },
] as const;
const ADAPTERS = ['express', 'fastify'] as const;

type Adapter = (typeof ADAPTERS)[number];
type Path = 'service' | 'direct';
interface Repetition {
  adapter: Adapter;
  readinessDelayMs: number;
}

/** What one repetition saw. */
interface RepetitionReport extends Repetition {
  calls: Record<Path, number>;
  outcomes: Record<Path, Record<CallOutcome, number>>;
  /** Resets of connections the server had accepted (must be none). */
  resetAfterAccept: CallRecord[];
  /** Resets of connections the kernel queued and the server never accepted, by path. */
  resetBeforeAccept: Record<Path, number>;
  /** Of those, the ones that ended before the listener closed (there must be none). */
  resetBeforeAcceptWhileListening: number;
  /** Refusals that came while the listener was still open (must be none). */
  refusedWhileListening: number;
  /** Calls sent on an old socket after the listener closed and answered in full. */
  servedAfterListenerClosed: number;
  /**
   * With the shorter delay, the answer to a chat call written, once the listener is closed, on a
   * raw keep-alive socket that was idle since before the signal.
   */
  lateAnswer?: string;
  /** The replica's answers to calls sent after the signal that did not say `Connection: close`. */
  keptAliveAfterSignal: number;
  /** Everything else that went wrong, with times relative to the signal. */
  failures: (CallRecord & { path: Path })[];
  exit: string;
  summary: Record<string, unknown> | undefined;
}

let provider: SimulatedProvider;
const reports: RepetitionReport[] = [];

function sampleEnv(repetition: Repetition): Record<string, string> {
  return {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${PRELOAD}`,
    HTTP_ADAPTER: repetition.adapter,
    INFERENCE_BASE_URL: provider.baseUrl,
    INFERENCE_API_KEY: API_KEY,
    CANARY_BASE_URL: provider.baseUrl,
    CANARY_API_KEY: API_KEY,
    ROLLOUT_AUTOSTART: 'false',
    READINESS_DELAY_MS: String(repetition.readinessDelayMs),
    KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    DRAIN_TIMEOUT_MS: '20000',
  };
}

function startCallers(
  sample: SampleProcess,
  serviceRoute: () => Address,
): Map<KeepAliveCaller, Path> {
  const url = new URL(sample.url);
  const replica = { host: url.hostname, port: Number(url.port) };
  const callers = new Map<KeepAliveCaller, Path>();
  for (const path of ['service', 'direct'] as Path[])
    for (const kind of ['undici', 'node'] as CallerKind[]) {
      // Pauses that straddle each client's idle timeout (1 s for undici, 2 s for Node's agent).
      const longestPause = kind === 'undici' ? 1_500 : 2_500;
      for (let index = 0; index < CALLERS_PER_GROUP; index++) {
        const caller = new KeepAliveCaller({
          name: `${path}-${kind}-${index}`,
          kind,
          url,
          route: path === 'service' ? serviceRoute : () => replica,
          expected: expectedContent(CHUNKS),
          thinkMs: index % 2 === 1 ? () => Math.random() * longestPause : () => 0,
          streamShare: 0.3,
          // The other endpoints (the simulated provider) want the key; the replica ignores it.
          headers: { authorization: `Bearer ${API_KEY}` },
        });
        callers.set(caller, path);
        caller.start();
      }
    }
  return callers;
}

async function runRepetition(
  repetition: Repetition,
  sample: SampleProcess,
  bootNext: () => void,
): Promise<RepetitionReport> {
  let isEndpoint = true;
  const others = new URL(provider.baseUrl);
  const elsewhere = { host: others.hostname, port: Number(others.port) };
  const replicaUrl = new URL(sample.url);
  const replica = { host: replicaUrl.hostname, port: Number(replicaUrl.port) };
  const callers = startCallers(sample, () => (isEndpoint ? replica : elsewhere));
  const old = await openSocket(replica.port);
  await old.send(rawRequest('GET', '/health/live'));
  // Every caller has a socket open by then; the signal comes at a random point of the traffic.
  await delay(400 + Math.random() * 300);
  sample.kill('SIGTERM');
  bootNext();
  const removal = delay(50 + Math.random() * 100).then(() => (isEndpoint = false));
  let lateAnswer: Promise<string> | undefined;
  if (repetition.readinessDelayMs < KEEP_ALIVE_TIMEOUT_MS) {
    await waitFor(
      () => sample.events('shutdown-phase').some((event) => event.phase === 'draining'),
      'the listener to close',
      10_000,
    );
    lateAnswer = old.send(rawRequest('POST', '/v1/chat/completions', JSON.stringify(PROMPT)));
  }
  const exit = await Promise.race([
    sample.exited,
    delay(30_000).then(() => {
      throw new Error(`the replica did not exit:\n${sample.output()}`);
    }),
  ]);
  await removal;
  const lateText = await lateAnswer?.catch((error: unknown) => String(error));
  old.socket.destroy();
  await delay(100); // calls made now are refused: the replica is gone
  await Promise.all([...callers.keys()].map((caller) => caller.stop()));

  const phases = sample.events('shutdown-phase');
  const signalledAt = phases.find((event) => event.phase === 'readiness-delay')!.at as number;
  // Taken just before the listening socket closed (the `draining` phase event comes later, after
  // an await that a busy event loop delays).
  const closedAt = sample.events('listener-closed')[0]!.at as number;
  const accepted = new Map<number, number[]>();
  for (const event of sample.events('accepted')) {
    const times = accepted.get(event.port as number) ?? [];
    times.push(event.at as number);
    accepted.set(event.port as number, times);
  }
  // A connection to the replica that its server accepted (any other counts as accepted: a reset
  // there is a failure too).
  const wasAccepted = (record: CallRecord): boolean =>
    record.localPort === undefined ||
    record.remotePort !== replica.port ||
    (accepted.get(record.localPort) ?? []).some((at) => at >= record.sentAt - 5_000);
  const onReplica = (record: CallRecord): boolean => record.remotePort === replica.port;
  // A failure the close caused ends after `closedAt`; 5 ms of margin for the two processes' clocks.
  const endedWhileListening = (record: CallRecord): boolean => record.endedAt < closedAt - 5;

  const empty = (): Record<CallOutcome, number> => ({
    complete: 0,
    refused: 0,
    reset: 0,
    truncated: 0,
    status: 0,
  });
  const report: RepetitionReport = {
    ...repetition,
    calls: { service: 0, direct: 0 },
    outcomes: { service: empty(), direct: empty() },
    resetAfterAccept: [],
    resetBeforeAccept: { service: 0, direct: 0 },
    resetBeforeAcceptWhileListening: 0,
    refusedWhileListening: 0,
    servedAfterListenerClosed: 0,
    lateAnswer: lateText,
    keptAliveAfterSignal: 0,
    failures: [],
    exit: String(exit.signal ?? exit.code),
    summary: sample.events('shutdown-summary')[0],
  };
  for (const [caller, path] of callers)
    for (const record of caller.records) {
      report.calls[path]++;
      report.outcomes[path][record.outcome]++;
      const relative = { ...record, path, sentAt: record.sentAt - signalledAt };
      Object.assign(relative, { endedAt: record.endedAt - signalledAt });
      if (record.outcome === 'reset') {
        if (wasAccepted(record)) report.resetAfterAccept.push(relative);
        else report.resetBeforeAccept[path]++;
        if (!wasAccepted(record) && endedWhileListening(record))
          report.resetBeforeAcceptWhileListening++;
      } else if (record.outcome === 'refused') {
        if (endedWhileListening(record)) report.refusedWhileListening++;
      } else if (record.outcome !== 'complete') {
        report.failures.push(relative);
      }
      if (record.outcome === 'complete' && onReplica(record) && record.sentAt > closedAt)
        report.servedAfterListenerClosed++;
      if (onReplica(record) && record.sentAt > signalledAt && record.status !== undefined)
        if (record.connection !== 'close') report.keptAliveAfterSignal++;
    }
  return report;
}

/** Starts a replica and sends it a few calls, so the repetition does not measure its first ones. */
async function bootReplica(repetition: Repetition): Promise<SampleProcess> {
  const sample = await startSample(sampleEnv(repetition));
  const pool = newPool(sample.url, 8);
  await Promise.all(
    Array.from({ length: 8 }, (_, index) => callGateway(pool, `warm-up-${index}`, index % 2 === 0)),
  );
  await pool.close();
  return sample;
}

/** Runs the repetitions on `PARALLEL_REPLICAS` workers; each boots its next replica while one drains. */
async function runAll(repetitions: Repetition[]): Promise<void> {
  const queue = [...repetitions];
  const worker = async (): Promise<void> => {
    let next = queue.shift();
    let booting = next && bootReplica(next);
    while (next && booting) {
      const current = next;
      const sample = await booting;
      next = queue.shift();
      booting = undefined;
      reports.push(
        await runRepetition(current, sample, () => {
          if (next) booting = bootReplica(next);
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_REPLICAS }, worker));
}

function sum(selected: RepetitionReport[], pick: (report: RepetitionReport) => number): number {
  return selected.reduce((total, report) => total + pick(report), 0);
}

function casesOf(adapter: Adapter, readinessDelayMs: number): RepetitionReport[] {
  return reports.filter(
    (report) => report.adapter === adapter && report.readinessDelayMs === readinessDelayMs,
  );
}

describe('keep-alive callers of one replica, across SIGTERM', () => {
  beforeAll(async () => {
    provider = await SimulatedProvider.start({
      apiKey: API_KEY,
      chunks: CHUNKS,
      latency: { firstByteMs: 100, perChunkMs: 5 },
    });
    const repetitions: Repetition[] = [];
    for (let index = 0; index < REPETITIONS_PER_CASE; index++)
      for (const adapter of ADAPTERS)
        for (const { readinessDelayMs } of CASES) repetitions.push({ adapter, readinessDelayMs });
    await runAll(repetitions);
    // The figures, one line per case (the README quotes them).
    for (const adapter of ADAPTERS)
      for (const { name, readinessDelayMs } of CASES) {
        const selected = casesOf(adapter, readinessDelayMs);
        const count = (path: Path, outcome: CallOutcome) =>
          sum(selected, (report) => report.outcomes[path][outcome]);
        console.log(
          `keep-alive callers on ${adapter}, readiness delay ${readinessDelayMs} ms (${name} than the ${KEEP_ALIVE_TIMEOUT_MS} ms keep-alive): ${selected.length} repetitions; ` +
            `through a Service ${sum(selected, (r) => r.calls.service)} calls, ${count('service', 'complete')} complete, ${count('service', 'reset')} reset, ${count('service', 'truncated')} truncated; ` +
            `by address ${sum(selected, (r) => r.calls.direct)} calls, ${count('direct', 'complete')} complete, ${count('direct', 'refused')} refused at connect, ` +
            `${sum(selected, (r) => r.resetAfterAccept.length)} reset after accept, ${sum(selected, (r) => r.resetBeforeAccept.direct)} (and ${sum(selected, (r) => r.resetBeforeAccept.service)} through the Service) reset in the kernel's queue at the listener close, ${count('direct', 'truncated')} truncated; ` +
            `${sum(selected, (r) => r.servedAfterListenerClosed)} served on old sockets after the listener closed`,
        );
      }
  }, 900_000);

  afterAll(async () => {
    await provider?.close();
  });

  describe.each(ADAPTERS)('on %s', (adapter) => {
    describe.each(CASES)('readiness delay $name than the keep-alive timeout', (testCase) => {
      const selected = () => casesOf(adapter, testCase.readinessDelayMs);

      it('no connection the server accepted is reset, no answer is cut, none is an error', () => {
        expect(selected()).toHaveLength(REPETITIONS_PER_CASE);
        for (const report of selected()) {
          expect(report.resetAfterAccept.slice(0, 3)).toEqual([]);
          expect(report.failures.slice(0, 3)).toEqual([]);
          for (const path of ['service', 'direct'] as Path[]) {
            expect(report.outcomes[path]).toMatchObject({ truncated: 0, status: 0 });
            expect(report.outcomes[path].complete).toBeGreaterThan(0);
          }
        }
      });

      it('a call fails only at connect, or in the kernel queue the listener had, once it is closed', () => {
        for (const report of selected()) {
          // Through the Service, no new connection reaches the replica once it is no endpoint.
          expect(report.outcomes.service.refused).toBe(0);
          expect(report.outcomes.direct.refused).toBeGreaterThan(0);
          expect(report.refusedWhileListening).toBe(0);
          expect(report.resetBeforeAcceptWhileListening).toBe(0);
        }
      });

      it('every answer after the signal says Connection: close', () => {
        for (const report of selected()) expect(report.keptAliveAfterSignal).toBe(0);
      });

      it('each replica drains cleanly: nothing refused with 503, nothing abandoned', () => {
        for (const report of selected()) {
          expect(report.exit).toBe('SIGTERM');
          expect(report.summary).toMatchObject({ rejected: 0, abandoned: 0, forced: false });
        }
      });
    });

    it('a call written on an old socket after the listener closed is served, with Connection: close', () => {
      for (const report of casesOf(adapter, CASES[0].readinessDelayMs)) {
        expect(report.lateAnswer).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\nconnection: close\r\n/i);
        expect(report.lateAnswer).toContain(expectedContent(CHUNKS));
      }
    });
  });
});
