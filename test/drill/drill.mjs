// The deploy drill: HAProxy in front of two replicas of the sample gateway, with active health
// checks on the readiness endpoint, keep-alive clients sending mixed unary and streaming traffic,
// and each replica restarted again and again (SIGTERM, wait for exit, start again). It prints a
// report and exits non-zero on any failed or truncated request.
//
//   npm run drill                     # 120 s; replica a on Express, b on Fastify
//   npm run drill -- --duration 40    # the CI version
//   options: --clients 32 --stream-share 0.3 --readiness-delay 400 --keep-alive-timeout 1000
//            --adapters express,fastify
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { SimulatedProvider } from 'nestjs-inference/testing';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '120' },
    clients: { type: 'string', default: '32' },
    'stream-share': { type: 'string', default: '0.3' },
    // Shorter than the slowest calls, so that each drain has requests to wait for.
    'readiness-delay': { type: 'string', default: '400' },
    // The replicas' idle keep-alive timeout. HAProxy keeps idle connections to a replica that
    // went down; the drain waits until they expire (this + 1 s), as with any client that may
    // still write on them. Short here, since the readiness delay is shorter than it.
    'keep-alive-timeout': { type: 'string', default: '1000' },
    // Replica a runs on the first adapter, b on the second.
    adapters: { type: 'string', default: 'express,fastify' },
    verbose: { type: 'boolean', default: false },
  },
});
const DURATION_MS = Number(args.duration) * 1000;
const CLIENTS = Number(args.clients);
const STREAM_SHARE = Number(args['stream-share']);
const READINESS_DELAY_MS = Number(args['readiness-delay']);
const CHUNKS = 12;
const API_KEY = 'sk-drill-simulated';
const SAMPLE_MAIN = fileURLToPath(new URL('../../sample/dist/main.js', import.meta.url));
const EXPECTED = Array.from({ length: CHUNKS }, (_, index) => `tok${index} `).join('');

function log(message) {
  process.stdout.write(`[drill +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);
}

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

function haproxyBinary() {
  for (const candidate of ['haproxy', '/usr/sbin/haproxy']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error('haproxy is not installed: apt-get install -y haproxy (the CI script does).');
}

/** One replica of the sample gateway on a fixed port. */
class Replica {
  constructor(name, port, env) {
    this.name = name;
    this.port = port;
    this.env = env;
    this.drains = [];
  }

  async start() {
    const child = spawn(process.execPath, [SAMPLE_MAIN], {
      env: { ...process.env, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.output = '';
    child.stdout.on('data', (data) => (this.output += data));
    child.stderr.on('data', (data) => (this.output += data));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    while (!/listening on http/.test(this.output)) {
      if (child.exitCode !== null) throw new Error(`${this.name} exited at start:\n${this.output}`);
      await delay(20);
    }
  }

  /** SIGTERM, then waits for the exit; returns what the drain reported. */
  async restart() {
    const signalledAt = Date.now();
    this.child.kill('SIGTERM');
    const exit = await this.exited;
    const summaryLine = this.output
      .split('\n')
      .find((line) => line.startsWith('{') && line.includes('"shutdown-summary"'));
    const summary = summaryLine ? JSON.parse(summaryLine) : undefined;
    const drain = {
      replica: this.name,
      exitMs: exit.at - signalledAt,
      exit: exit.signal ?? exit.code,
      completed: summary?.completed,
      rejected: summary?.rejected,
      abandoned: summary?.abandoned,
      drainMs: summary?.durations.drainMs,
    };
    this.drains.push(drain);
    if (args.verbose) log(`${this.name}: ${JSON.stringify(drain)}`);
    await this.start();
    return drain;
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
  }
}

/** Waits until HAProxy's health checks see the replica up again (readiness 200 twice in a row). */
async function waitUntilReady(replica) {
  const pool = new Pool(`http://127.0.0.1:${replica.port}`, { connections: 1 });
  try {
    for (;;) {
      const response = await pool
        .request({ method: 'GET', path: '/health/ready' })
        .catch(() => undefined);
      await response?.body.dump();
      if (response?.statusCode === 200) break;
      await delay(50);
    }
  } finally {
    await pool.close();
  }
  await delay(HEALTH_INTERVAL_MS * (HEALTH_RISE + 1));
}

const HEALTH_INTERVAL_MS = 250;
const HEALTH_RISE = 2;

function haproxyConfig(frontPort, replicas) {
  return `global
  maxconn 4096

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 10s
  # A request that meets a closing socket, or the 503 a draining replica answers on an old
  # connection, is sent again to another replica.
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response 503

frontend gateway
  bind 127.0.0.1:${frontPort}
  default_backend replicas

backend replicas
  balance roundrobin
  option httpchk
  http-check send meth GET uri /health/ready
  http-check expect status 200
  default-server inter ${HEALTH_INTERVAL_MS} fall 1 rise ${HEALTH_RISE}
${replicas.map((replica) => `  server ${replica.name} 127.0.0.1:${replica.port} check`).join('\n')}
`;
}

/** Keep-alive clients sending mixed traffic through HAProxy until told to stop. */
class Load {
  constructor(url) {
    this.pool = new Pool(url, { connections: CLIENTS, keepAliveTimeout: 30_000 });
    this.sent = 0;
    this.succeeded = 0;
    this.failed = 0;
    this.truncated = 0;
    this.streams = 0;
    this.latencies = [];
    this.failures = [];
    this.running = true;
  }

  start() {
    this.done = Promise.all(Array.from({ length: CLIENTS }, (_, client) => this.#client(client)));
  }

  async stop() {
    this.running = false;
    await this.done;
    await this.pool.close();
  }

  async #client(client) {
    let sequence = 0;
    while (this.running) {
      const stream = Math.random() < STREAM_SHARE;
      const id = `drill-${client}-${sequence++}`;
      this.sent++;
      if (stream) this.streams++;
      const began = performance.now();
      try {
        const response = await this.pool.request({
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { 'content-type': 'application/json', 'x-request-id': id },
          body: JSON.stringify({
            messages: [{ role: 'user', content: 'Recommend a book' }],
            stream,
          }),
        });
        const body = await response.body.text();
        if (response.statusCode !== 200) {
          this.#fail(id, `status ${response.statusCode}: ${body.slice(0, 160)}`);
          continue;
        }
        const verdict = stream ? checkStream(body) : checkUnary(body);
        if (verdict) {
          this.truncated++;
          this.failures.push(`${id}: ${verdict}`);
          continue;
        }
        this.succeeded++;
        this.latencies.push(performance.now() - began);
      } catch (error) {
        this.#fail(id, String(error));
      }
    }
  }

  #fail(id, reason) {
    this.failed++;
    this.failures.push(`${id}: ${reason}`);
  }
}

function checkUnary(body) {
  const content = JSON.parse(body).choices?.[0]?.message?.content;
  return content === EXPECTED ? undefined : `unary content ${JSON.stringify(content)}`;
}

function checkStream(body) {
  let text = '';
  let done = false;
  for (const line of body.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    if (line === 'data: [DONE]') done = true;
    else text += JSON.parse(line.slice(6)).choices?.[0]?.delta?.content ?? '';
  }
  if (!done) return `stream without [DONE] after ${text.length} characters`;
  return text === EXPECTED ? undefined : `stream content ${JSON.stringify(text)}`;
}

function quantile(values, q) {
  if (values.length === 0) return 0;
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const startedAt = Date.now();
if (!existsSync(SAMPLE_MAIN))
  throw new Error('sample/dist is missing: run `npm run build:sample`.');
const haproxy = haproxyBinary();
const upstream = await SimulatedProvider.start({
  apiKey: API_KEY,
  chunks: CHUNKS,
  latency: { firstByteMs: [100, 900], perChunkMs: 20 },
});
const env = {
  INFERENCE_BASE_URL: upstream.baseUrl,
  INFERENCE_API_KEY: API_KEY,
  CANARY_BASE_URL: upstream.baseUrl,
  CANARY_API_KEY: API_KEY,
  READINESS_DELAY_MS: String(READINESS_DELAY_MS),
  KEEP_ALIVE_TIMEOUT_MS: args['keep-alive-timeout'],
  DRAIN_TIMEOUT_MS: '30000',
};
const [adapterA, adapterB = adapterA] = args.adapters.split(',');
const replicas = [
  new Replica('a', await freePort(), { ...env, HTTP_ADAPTER: adapterA }),
  new Replica('b', await freePort(), { ...env, HTTP_ADAPTER: adapterB }),
];
await Promise.all(replicas.map((replica) => replica.start()));
const frontPort = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'inference-drill-'));
const configPath = join(dir, 'haproxy.cfg');
writeFileSync(configPath, haproxyConfig(frontPort, replicas));
const proxy = spawn(haproxy, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
let proxyOutput = '';
proxy.stdout.on('data', (data) => (proxyOutput += data));
proxy.stderr.on('data', (data) => (proxyOutput += data));
await Promise.all(replicas.map((replica) => waitUntilReady(replica)));
log(
  `HAProxy on :${frontPort} in front of replicas a (${adapterA}, :${replicas[0].port}) and b (${adapterB}, :${replicas[1].port}); ${CLIENTS} keep-alive clients, ${Math.round(STREAM_SHARE * 100)}% streams, for ${DURATION_MS / 1000} s`,
);

const load = new Load(`http://127.0.0.1:${frontPort}`);
load.start();
let restarts = 0;
const deadline = Date.now() + DURATION_MS;
await delay(1_000);
while (Date.now() < deadline - 2_000) {
  for (const replica of replicas) {
    if (Date.now() >= deadline - 2_000) break;
    const drain = await replica.restart();
    restarts++;
    log(
      `restarted ${replica.name}: exit ${drain.exit} after ${drain.exitMs} ms (drain ${drain.drainMs} ms, ${drain.completed} completed, ${drain.rejected} rejected, ${drain.abandoned} abandoned)`,
    );
    await waitUntilReady(replica);
  }
}
await delay(Math.max(0, deadline - Date.now()));
await load.stop();
await Promise.all(replicas.map((replica) => replica.stop()));
proxy.kill('SIGTERM');
await upstream.close();

const drains = replicas.flatMap((replica) => replica.drains);
const report = {
  seconds: Math.round((Date.now() - startedAt) / 1000),
  restarts,
  sent: load.sent,
  streams: load.streams,
  succeeded: load.succeeded,
  failed: load.failed,
  truncated: load.truncated,
  p50Ms: Math.round(quantile(load.latencies, 0.5)),
  p99Ms: Math.round(quantile(load.latencies, 0.99)),
  drainMs: drains.map((drain) => drain.drainMs),
  exitMs: drains.map((drain) => drain.exitMs),
  abandoned: drains.reduce((sum, drain) => sum + (drain.abandoned ?? 0), 0),
};
process.stdout.write(`\nDrill report\n${'-'.repeat(40)}\n`);
process.stdout.write(
  `duration           ${report.seconds} s, ${report.restarts} restarts (SIGTERM, exit, start)\n`,
);
process.stdout.write(`requests sent      ${report.sent} (${report.streams} streams)\n`);
process.stdout.write(`succeeded          ${report.succeeded}\n`);
process.stdout.write(`failed             ${report.failed}\n`);
process.stdout.write(`truncated streams  ${report.truncated}\n`);
process.stdout.write(`latency p50 / p99  ${report.p50Ms} ms / ${report.p99Ms} ms\n`);
process.stdout.write(`drain durations    ${report.drainMs.join(', ')} ms\n`);
process.stdout.write(`SIGTERM to exit    ${report.exitMs.join(', ')} ms\n`);
process.stdout.write(`abandoned          ${report.abandoned}\n`);
for (const failure of load.failures.slice(0, 20)) process.stdout.write(`  ${failure}\n`);
process.stdout.write(`DRILL ${JSON.stringify(report)}\n`);
const ok = load.failed === 0 && load.truncated === 0 && report.abandoned === 0 && restarts > 0;
if (!ok && args.verbose) process.stdout.write(proxyOutput);
process.exit(ok ? 0 : 1);
