// Added latency at concurrency 1: one caller sends chat completions one after another, straight
// to the simulated upstream, through the bare Nest proxy (bench/bare-proxy.mjs) and through the
// sample gateway, each in its own process. Rounds alternate the targets (each round starts with
// a different one). Prints each target's p50 and p99 over all rounds, and what the proxy and the
// sample add over the upstream straight (the difference of the medians of each round's p50s).
//
//   node bench/latency.bench.mjs                # Express
//   HTTP_ADAPTER=fastify node bench/latency.bench.mjs
//   BENCH_QUICK=1 node bench/latency.bench.mjs
import { Pool } from 'undici';
import { chatBody, startBareProxy, startSample, startUpstream } from './processes.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 7));
const CALLS = Number(process.env.BENCH_CALLS ?? (QUICK ? 300 : 2_000));
const ADAPTER = process.env.HTTP_ADAPTER ?? 'express';

const upstream = await startUpstream(8);
const bare = await startBareProxy({ adapter: ADAPTER, upstreamUrl: upstream.url });
const sample = await startSample({ adapter: ADAPTER, upstreamUrl: upstream.url });
const targets = {
  upstream: `${upstream.url}/chat/completions`,
  'bare proxy': `${bare.url}/v1/chat/completions`,
  sample: `${sample.url}/v1/chat/completions`,
};
const body = JSON.stringify(chatBody('chat'));
const headers = {
  'content-type': 'application/json',
  authorization: 'Bearer sk-bench',
  'x-user-id': 'bench-user',
};

/** `CALLS` calls one at a time on one keep-alive connection; their latencies in ms. */
async function run(url) {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, { connections: 1 });
  const latencies = [];
  for (let i = 0; i < CALLS; i++) {
    const started = process.hrtime.bigint();
    const response = await pool.request({ method: 'POST', path: pathname, headers, body });
    await response.body.text();
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode}`);
  }
  await pool.close();
  return latencies;
}

const quantile = (values, q) => values.toSorted((a, b) => a - b)[Math.floor(values.length * q)];
const median = (values) => quantile(values, 0.5);

const labels = Object.keys(targets);
for (const label of labels) await run(targets[label]); // warm-up
const all = Object.fromEntries(labels.map((label) => [label, []]));
const p50s = Object.fromEntries(labels.map((label) => [label, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = [...labels.slice(round % labels.length), ...labels.slice(0, round % labels.length)];
  for (const label of order) {
    const latencies = await run(targets[label]);
    all[label].push(...latencies);
    p50s[label].push(median(latencies));
  }
}
for (const server of [upstream, bare, sample]) server.stop();

console.log(
  `Latency at concurrency 1 on ${ADAPTER}, node ${process.version}: ${ROUNDS} rounds × ${CALLS} calls per target`,
);
console.log('target          p50 ms   p99 ms | added over the upstream at p50 (median of rounds)');
const added = (label) => median(p50s[label].map((p50, i) => p50 - p50s.upstream[i]));
for (const label of labels) {
  console.log(
    `${label.padEnd(14)} ${median(all[label]).toFixed(3).padStart(7)} ${quantile(all[label], 0.99)
      .toFixed(3)
      .padStart(8)} | ${label === 'upstream' ? '' : `+${added(label).toFixed(3)} ms`}`,
  );
}
console.log(
  `sample minus bare proxy at p50: ${(added('sample') - added('bare proxy')).toFixed(3)} ms`,
);
