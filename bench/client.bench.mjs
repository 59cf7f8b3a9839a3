// Compares one chat completion (or stream, or embeddings call) through InferenceService with the same call made with raw
// undici.request (the baseline) and with the official openai SDK, against the same simulated
// provider on loopback. Prints median and p99 per call, throughput, and each ratio to raw undici, paired per round; the median over 7 rounds is printed with its range.
//
//   npm run bench                  # all scenarios
//   BENCH_QUICK=1 npm run bench    # fewer calls, for a smoke run
//   BENCH_ONLY=embed npm run bench # one kind of call: chat, stream or embed
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import OpenAI from 'openai';
import { Pool } from 'undici';
import { InferenceModule, InferenceService } from '../dist/index.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 1 : 7;
const KEY = 'sk-bench';
const request = {
  model: 'sim-model',
  messages: [{ role: 'user', content: 'Recommend three books about resilience.' }],
};
const embedRequest = {
  model: 'sim-embedding',
  input: Array.from({ length: 16 }, (_, i) => `product ${i}: a red bicycle with a basket`),
  dimensions: 256,
};

async function startUpstream(chunks) {
  const child = spawn(
    process.execPath,
    [new URL('./simulated-server.mjs', import.meta.url).pathname, String(chunks)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = await once(child.stdout, 'data');
  return { baseUrl: line.toString().trim(), stop: () => child.kill('SIGTERM') };
}

/** Raw undici: what a careful hand-written client does, with no retries, timers or typing. */
function rawUndici(baseUrl) {
  const url = new URL(baseUrl);
  const pool = new Pool(url.origin, { connections: 128 });
  const path = `${url.pathname}/chat/completions`;
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  return {
    async chat() {
      const { body } = await pool.request({
        method: 'POST',
        path,
        headers,
        body: JSON.stringify(request),
      });
      return body.json();
    },
    async stream() {
      const { body } = await pool.request({
        method: 'POST',
        path,
        headers,
        body: JSON.stringify({ ...request, stream: true }),
      });
      // A minimal SSE split for `data: ...` events only: no comments, CR, or multi-line data.
      const decoder = new TextDecoder();
      let buffered = '';
      let count = 0;
      for await (const bytes of body) {
        buffered += decoder.decode(bytes, { stream: true });
        let start = 0;
        let end;
        while ((end = buffered.indexOf('\n\n', start)) !== -1) {
          const data = buffered.slice(start + 6, end);
          start = end + 2;
          if (data !== '[DONE]') {
            JSON.parse(data);
            count++;
          }
        }
        buffered = buffered.slice(start);
      }
      return count;
    },
    async embed() {
      const { body } = await pool.request({
        method: 'POST',
        path: `${url.pathname}/embeddings`,
        headers,
        body: JSON.stringify(embedRequest),
      });
      return body.json();
    },
    close: () => pool.close(),
  };
}

async function inferenceService(baseUrl) {
  class BenchModule {}
  Module({
    imports: [
      InferenceModule.forRoot({
        providers: { sim: { baseUrl, apiKey: KEY, defaultModel: 'sim-model' } },
      }),
    ],
  })(BenchModule);
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  const service = app.get(InferenceService);
  return {
    chat: () => service.chat(request),
    async stream() {
      let count = 0;
      for await (const _chunk of service.stream(request)) count++;
      return count;
    },
    embed: () => service.embed(embedRequest),
    close: () => app.close(),
  };
}

function openaiSdk(baseUrl) {
  const client = new OpenAI({ baseURL: baseUrl, apiKey: KEY, maxRetries: 0 });
  return {
    chat: () => client.chat.completions.create(request),
    async stream() {
      let count = 0;
      for await (const _chunk of await client.chat.completions.create({ ...request, stream: true }))
        count++;
      return count;
    },
    embed: () => client.embeddings.create(embedRequest),
    close: async () => undefined,
  };
}

/**
 * Runs `calls` calls with `concurrency` callers; returns the median and p99 latency (ms), the
 * throughput, and the CPU this process spent per call (µs): the client's own cost.
 */
async function measure(fn, calls, concurrency) {
  const latencies = new Float64Array(calls);
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        const i = next++;
        const t0 = performance.now();
        await fn();
        latencies[i] = performance.now() - t0;
      }
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort();
  return {
    median: latencies[Math.floor(calls / 2)],
    p99: latencies[Math.min(calls - 1, Math.floor(calls * 0.99))],
    perSecond: (calls / wallMs) * 1000,
    cpuUs: (cpu.user + cpu.system) / calls,
  };
}

const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)];

async function scenario({ name, chunks, kind, calls, concurrency }) {
  if (process.env.BENCH_ONLY && process.env.BENCH_ONLY !== kind) return;
  const upstream = await startUpstream(chunks);
  const clients = {
    'raw undici': rawUndici(upstream.baseUrl),
    InferenceService: await inferenceService(upstream.baseUrl),
    'openai SDK': openaiSdk(upstream.baseUrl),
  };
  const results = Object.fromEntries(Object.keys(clients).map((k) => [k, []]));
  for (const client of Object.values(clients))
    await measure(client[kind], Math.ceil(calls / 5), concurrency); // warm-up
  const labels = Object.keys(clients);
  for (let round = 0; round < ROUNDS; round++) {
    // Interleaved rounds, each starting with a different client, so drift in the machine and the
    // cost of following another client (its garbage, its sockets) fall on every client alike.
    const order = [...labels.slice(round % 3), ...labels.slice(0, round % 3)];
    for (const label of order)
      results[label].push(await measure(clients[label][kind], calls, concurrency));
  }
  for (const client of Object.values(clients)) await client.close();
  upstream.stop();

  // Each ratio is paired: taken within one round, between runs made moments apart, then the
  // median over rounds is reported with its range. The machine's drift cancels out.
  const base = results['raw undici'];
  const ratio = (runs, pick, invert = false) => {
    const values = runs.map((r, i) => (invert ? pick(base[i]) / pick(r) : pick(r) / pick(base[i])));
    return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
  };
  const show = (r) => `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
  console.log(`\n${name} (${calls} calls × ${ROUNDS} rounds, concurrency ${concurrency})`);
  console.log(
    'client             median ms   p99 ms    calls/s  cpu µs/call | median×            p99×               throughput×        cpu×',
  );
  for (const [label, runs] of Object.entries(results)) {
    const m = (pick) => median(runs.map(pick));
    console.log(
      `${label.padEnd(18)} ${m((r) => r.median)
        .toFixed(3)
        .padStart(9)} ${m((r) => r.p99)
        .toFixed(3)
        .padStart(8)} ` +
        `${m((r) => r.perSecond)
          .toFixed(0)
          .padStart(10)} ${m((r) => r.cpuUs)
          .toFixed(1)
          .padStart(12)} | ` +
        [
          ratio(runs, (r) => r.median),
          ratio(runs, (r) => r.p99),
          ratio(runs, (r) => r.perSecond, true),
          ratio(runs, (r) => r.cpuUs),
        ]
          .map((r) => show(r).padEnd(18))
          .join(' '),
    );
  }
}

console.log(
  `nestjs-inference client benchmark — node ${process.version}; ratios to raw undici (lower is better): median over ${ROUNDS} rotated rounds (min–max)`,
);
const scale = QUICK ? 0.1 : 1;
await scenario({
  name: 'unary, 8-chunk answer',
  chunks: 8,
  kind: 'chat',
  calls: Math.round(3_000 * scale),
  concurrency: 1,
});
await scenario({
  name: 'unary, 8-chunk answer',
  chunks: 8,
  kind: 'chat',
  calls: Math.round(20_000 * scale),
  concurrency: 50,
});
await scenario({
  name: 'stream, 1,000 chunks',
  chunks: 1_000,
  kind: 'stream',
  calls: Math.round(100 * scale),
  concurrency: 1,
});
await scenario({
  name: 'stream, 1,000 chunks',
  chunks: 1_000,
  kind: 'stream',
  calls: Math.round(300 * scale),
  concurrency: 50,
});
await scenario({
  name: 'embeddings, 16 inputs × 256 dimensions',
  chunks: 8,
  kind: 'embed',
  calls: Math.round(5_000 * scale),
  concurrency: 50,
});
