// Compares the sample gateway (the module behind OpenAI's HTTP API, metrics and rollout on) with a
// bare Nest app that proxies the same upstream with raw undici (bench/bare-proxy.mjs), on Express
// and on Fastify. Each server runs in its own process against one simulated provider (another
// process); autocannon drives the load from this one. Rounds alternate the servers, each round
// starting with a different one, so drift falls on all alike. Prints throughput and latency per
// server and each sample's ratio to the bare proxy on the same adapter, paired within a round:
// the median over rounds, with its range.
//
//   npm run bench:gateway                  # unary and streamed calls
//   BENCH_QUICK=1 npm run bench:gateway    # short rounds, for a smoke run
//   BENCH_ONLY=stream npm run bench:gateway
//   BENCH_ROUNDS=9 BENCH_SECONDS=8 npm run bench:gateway
//   BENCH_BASELINE=../other-checkout npm run bench:gateway   # also that checkout's built sample
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { chatBody, startBareProxy, startSample, startUpstream } from './processes.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 5));
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 2 : 6));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

async function startServers(upstreamUrl) {
  const baseline = process.env.BENCH_BASELINE;
  const sample = (adapter, checkout) => startSample({ adapter, upstreamUrl, checkout });
  const bare = (adapter) => startBareProxy({ adapter, upstreamUrl });
  return {
    'bare proxy, express': await bare('express'),
    'sample, express': await sample('express'),
    ...(baseline && { 'sample, express, baseline': await sample('express', baseline) }),
    'bare proxy, fastify': await bare('fastify'),
    'sample, fastify': await sample('fastify'),
    ...(baseline && { 'sample, fastify, baseline': await sample('fastify', baseline) }),
  };
}

function load(url, body, seconds) {
  return autocannon({
    url: `${url}/v1/chat/completions`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json', 'x-user-id': 'bench-user' },
    body: JSON.stringify(body),
  });
}

const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)];

async function scenario({ name, kind, chunks }) {
  if (process.env.BENCH_ONLY && process.env.BENCH_ONLY !== kind) return;
  const upstream = await startUpstream(chunks);
  const servers = await startServers(upstream.url);
  const body = chatBody(kind);
  const labels = Object.keys(servers);
  for (const label of labels) await load(servers[label].url, body, 1); // warm-up
  const runs = Object.fromEntries(labels.map((label) => [label, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = [
      ...labels.slice(round % labels.length),
      ...labels.slice(0, round % labels.length),
    ];
    for (const label of order) {
      const result = await load(servers[label].url, body, SECONDS);
      const bad = result.non2xx + result.errors + result.timeouts;
      if (bad > 0) throw new Error(`${label}: ${bad} failed requests in a round`);
      runs[label].push({
        perSecond: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
      });
    }
  }
  for (const server of Object.values(servers)) server.stop();
  upstream.stop();

  console.log(`\n${name} (${ROUNDS} rounds × ${SECONDS} s per server, ${CONNECTIONS} connections)`);
  console.log(
    'server                       req/s   p50 ms   p99 ms | throughput× bare (min–max)   p50× bare',
  );
  for (const label of labels) {
    const mine = runs[label];
    const base = runs[label.replace('sample', 'bare proxy').replace(', baseline', '')];
    const throughput = mine.map((run, i) => run.perSecond / base[i].perSecond);
    const p50 = mine.map((run, i) => run.p50 / base[i].p50);
    console.log(
      `${label.padEnd(26)} ${median(mine.map((r) => r.perSecond))
        .toFixed(0)
        .padStart(7)} ${median(mine.map((r) => r.p50))
        .toFixed(1)
        .padStart(8)} ${median(mine.map((r) => r.p99))
        .toFixed(1)
        .padStart(8)} | ` +
        `${median(throughput).toFixed(2)} (${Math.min(...throughput).toFixed(2)}–${Math.max(...throughput).toFixed(2)})`.padEnd(
          28,
        ) +
        ` ${median(p50).toFixed(2)}`,
    );
  }
}

console.log(
  `nestjs-inference gateway benchmark — node ${process.version}, ${cpus().length} cores; ratios to a bare Nest proxy on the same adapter (throughput: higher is better)`,
);
await scenario({ name: 'unary chat completions, 8-chunk answer', kind: 'chat', chunks: 8 });
await scenario({ name: 'streamed chat completions, 64 chunks', kind: 'stream', chunks: 64 });
