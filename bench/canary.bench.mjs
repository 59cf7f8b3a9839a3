// The canary's hot path: routing one call by its sticky key plus recording its outcome, against
// the naive approach that keeps every latency and sorts them to find p99. Prints ns per call and
// the heap each holds after 1,000,000 recorded calls, as ratios, plus the hash against the
// `murmurhash` package.
//
//   npm run bench:canary            (runs node with --expose-gc for the memory figures)
import 'reflect-metadata';
import murmurhash from 'murmurhash';
import { Logger } from '@nestjs/common';
import { ModelCatalog } from '../dist/index.js';
import { CanaryRollout, CanaryRouter, bucketOf } from '../dist/canary/index.js';
import { resolveInferenceOptions } from '../dist/options/resolve-options.js';

Logger.overrideLogger(false);

const CALLS = 1_000_000;
/** The naive judge sorts its latencies at each evaluation; one every 10,000 calls. */
const EVALUATE_EVERY = 10_000;
const ROUNDS = 5;

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc (npm run bench:canary does).');
  process.exit(1);
}

const users = Array.from({ length: 50_000 }, (_, i) => `user-${i}@example.com`);
const latencies = Float64Array.from({ length: 65_536 }, () => 100 + Math.random() * 400);
/** What the service tells the router of a unary call: output tokens and attempts. */
const FACTS = { outputTokens: 300, attempts: 1 };

async function newRollout() {
  const options = resolveInferenceOptions({
    providers: {
      legacy: { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k', defaultModel: 'gpt-4.1' },
      next: { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k', defaultModel: 'deepseek-v3.2' },
    },
    defaultProvider: 'legacy',
    equivalentModels: [{ legacy: 'gpt-4.1', next: 'deepseek-v3.2' }],
    canary: { stable: 'legacy', canary: 'next', warmup: { probes: 0 }, fastFail: false },
  });
  const rollout = new CanaryRollout(options, { get: () => undefined });
  await rollout.tick();
  await rollout.start();
  await rollout.advance(); // 5%
  await rollout.advance(); // 25%
  return { rollout, router: new CanaryRouter(options, rollout, new ModelCatalog(options)) };
}

/** The module: route by sticky key, record into the phase's counters and log-bucket sketch. */
function moduleRun({ router }) {
  let canary = 0;
  for (let call = 0; call < CALLS; call++) {
    const decision = router.route({
      requestId: 'r',
      stickyKey: users[call % users.length],
      model: 'gpt-4.1',
    });
    router.record(decision, undefined, latencies[call & 65_535], 0, FACTS);
    if (decision.side === 'canary') canary++;
  }
  return canary;
}

/** The naive way: same routing, every latency kept per side, p99 by sorting at each evaluation. */
function naiveRun({ router }) {
  const kept = { stable: [], canary: [] };
  let p99 = 0;
  for (let call = 0; call < CALLS; call++) {
    const decision = router.route({
      requestId: 'r',
      stickyKey: users[call % users.length],
      model: 'gpt-4.1',
    });
    kept[decision.side].push(latencies[call & 65_535]);
    if ((call + 1) % EVALUATE_EVERY === 0) {
      const sorted = kept.canary.toSorted((a, b) => a - b);
      p99 = sorted[Math.ceil(sorted.length * 0.99) - 1] ?? 0;
    }
  }
  return { kept, p99 };
}

function heapAfter(run) {
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const held = run();
  globalThis.gc();
  const bytes = process.memoryUsage().heapUsed - before;
  return { bytes: Math.max(0, bytes), held };
}

function timeRun(run) {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / CALLS;
}

const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)];

const results = { module: [], naive: [], ratio: [] };
for (let round = 0; round < ROUNDS; round++) {
  const fresh = await newRollout();
  const moduleNs = timeRun(() => moduleRun(fresh));
  const naiveNs = timeRun(() => naiveRun(fresh));
  results.module.push(moduleNs);
  results.naive.push(naiveNs);
  results.ratio.push(naiveNs / moduleNs);
}

// Memory: what each approach holds after 1,000,000 calls (the module's figures live in the rollout).
const measured = await newRollout();
const moduleMemory = heapAfter(() => moduleRun(measured));
const naive = heapAfter(() => naiveRun(measured));
const moduleBytes = moduleMemory.bytes;

const hashRounds = 2_000_000;
let sink = 0;
let started = process.hrtime.bigint();
for (let i = 0; i < hashRounds; i++) sink ^= bucketOf('rollout-7', users[i % users.length]);
const ownNs = Number(process.hrtime.bigint() - started) / hashRounds;
started = process.hrtime.bigint();
for (let i = 0; i < hashRounds; i++)
  sink ^= murmurhash.v3(`rollout-7:${users[i % users.length]}`) % 10_000;
const packageNs = Number(process.hrtime.bigint() - started) / hashRounds;

const ns = (value) => `${value.toFixed(0)} ns`;
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
console.log(
  `Canary hot path, ${CALLS.toLocaleString('en')} calls per run, median of ${ROUNDS} runs (Node ${process.version})`,
);
console.log(
  `  route + record, module (counters + log-bucket sketch): ${ns(median(results.module))} per call`,
);
console.log(
  `  route + record, naive (keep every latency, sort at each of ${CALLS / EVALUATE_EVERY} evaluations): ${ns(median(results.naive))} per call`,
);
console.log(
  `  heap grown by 1,000,000 recorded calls: module ${kib(moduleBytes)} (its per-phase figures are a fixed ~24 KiB, allocated when the phase starts), naive ${kib(naive.bytes)}`,
);
console.log(
  `  sticky bucket: ${ns(ownNs)} per key here, ${ns(packageNs)} with the murmurhash package (${(packageNs / ownNs).toFixed(1)}x)${sink === 0.5 ? '' : ''}`,
);
