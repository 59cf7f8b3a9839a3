// The cost of telemetry on a call: the same chat completion through InferenceService with
// telemetry off (`telemetry: false`), on with no SDK registered (the API's no-ops), and on with
// the metrics SDK alone, and on with the OpenTelemetry SDK (a meter provider with a reader, and a tracer provider exporting every
// span through a batch processor), against one simulated provider in its own process, answering at
// once (the worst case: the call is all client) and after 20 ms (still faster than any real model). Prints per-call latency and CPU as
// ratios to the run without telemetry, paired per round, median of the rounds.
//
//   npm run bench:telemetry
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { metrics, ProxyTracerProvider } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { InferenceModule, InferenceService } from '../dist/index.js';

const ROUNDS = process.env.BENCH_QUICK === '1' ? 2 : 7;
const CALLS = process.env.BENCH_QUICK === '1' ? 1_000 : 4_000;
const KEY = 'sk-bench';
const request = {
  model: 'sim-model',
  messages: [{ role: 'user', content: 'Recommend three books about resilience.' }],
};

class OnDemandReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}
/** Spans are exported, then dropped: what a batching exporter costs the call path, minus the network. */
const discardingExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
};

async function startUpstream(firstByteMs) {
  const child = spawn(
    process.execPath,
    [new URL('./simulated-server.mjs', import.meta.url).pathname, '8', String(firstByteMs)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = await once(child.stdout, 'data');
  return { baseUrl: line.toString().trim(), stop: () => child.kill('SIGTERM') };
}

async function service(baseUrl, telemetry) {
  class BenchModule {}
  Module({
    imports: [
      InferenceModule.forRoot({
        providers: {
          sim: {
            baseUrl,
            apiKey: KEY,
            defaultModel: 'sim-model',
            prices: { 'sim-model': { input: 1, output: 2 } },
          },
        },
        telemetry,
      }),
    ],
  })(BenchModule);
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  return { service: app.get(InferenceService), close: () => app.close() };
}

async function run(target, concurrency) {
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < CALLS) await target.service.chat(request);
    }),
  );
  const wallNs = Number(process.hrtime.bigint() - started);
  const cpu = process.cpuUsage(cpuBefore);
  return { usPerCall: wallNs / 1_000 / CALLS, cpuUsPerCall: (cpu.user + cpu.system) / CALLS };
}

const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)];

const meterProvider = new MeterProvider({ readers: [new OnDemandReader()] });
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(discardingExporter)],
});

async function scenario(firstByteMs, concurrency) {
  const upstream = await startUpstream(firstByteMs);
  const off = await service(upstream.baseUrl, false);
  // The API with nothing registered: its own no-op providers.
  const noSdk = await service(upstream.baseUrl, {
    meterProvider: metrics.getMeterProvider(),
    tracerProvider: new ProxyTracerProvider(),
  });
  // The metrics SDK alone (spans to the API's no-op): what metrics cost apart from traces.
  const metricsSdk = await service(upstream.baseUrl, {
    meterProvider,
    tracerProvider: new ProxyTracerProvider(),
  });
  const withSdk = await service(upstream.baseUrl, { meterProvider, tracerProvider });
  const targets = { off, noSdk, metricsSdk, withSdk };
  const results = { off: [], noSdk: [], metricsSdk: [], withSdk: [] };
  for (const target of Object.values(targets)) await run(target, concurrency); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so drift does not favour one.
    const order = Object.keys(targets);
    for (let shift = 0; shift < round % order.length; shift++) order.push(order.shift());
    for (const name of order) results[name].push(await run(targets[name], concurrency));
  }
  const ratio = (name, field) =>
    median(results[name].map((result, i) => result[field] / results.off[i][field]));
  console.log(`upstream answering after ${firstByteMs} ms, concurrency ${concurrency}:`);
  for (const name of ['off', 'noSdk', 'metricsSdk', 'withSdk']) {
    const label = {
      off: 'telemetry off',
      noSdk: 'on, no SDK registered',
      metricsSdk: 'on, metrics SDK only',
      withSdk: 'on, OpenTelemetry SDK',
    }[name];
    console.log(
      `  ${label.padEnd(24)} ${median(results[name].map((r) => r.usPerCall)).toFixed(1)} µs/call wall (${ratio(name, 'usPerCall').toFixed(3)}×), ${median(results[name].map((r) => r.cpuUsPerCall)).toFixed(1)} µs/call CPU (${ratio(name, 'cpuUsPerCall').toFixed(3)}×)`,
    );
  }
  await Promise.all(Object.values(targets).map((target) => target.close()));
  upstream.stop();
}

console.log(
  `Telemetry overhead per unary call, ${CALLS} calls × ${ROUNDS} rounds, median of paired ratios (Node ${process.version})`,
);
await scenario(0, 8);
await scenario(20, 64);
await meterProvider.shutdown();
await tracerProvider.shutdown();
