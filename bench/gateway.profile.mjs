// Where the CPU goes: runs the sample gateway (or the bare proxy, or InferenceService alone with
// bench/service-load.mjs) under load with `node --cpu-prof`, then prints its busy CPU by layer
// (self time: the module, the app, Nest, RxJS, the HTTP framework, undici, OpenTelemetry, Node's
// internals, garbage collection), as a share of the whole and per request. Start-up and warm-up
// are left out; idle time too.
//
//   npm run build:sample && node bench/gateway.profile.mjs                   # sample, express, unary
//   node bench/gateway.profile.mjs --target bare --adapter fastify --kind stream --seconds 10
//   node bench/gateway.profile.mjs --target service --kind chat             # the client path
//   node bench/gateway.profile.mjs --kind stream --functions 30              # and the busiest functions
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import {
  chatBody,
  startBareProxy,
  startProcess,
  startSample,
  startUpstream,
} from './processes.mjs';

const { values: args } = parseArgs({
  options: {
    target: { type: 'string', default: 'sample' },
    adapter: { type: 'string', default: 'express' },
    kind: { type: 'string', default: 'chat' },
    seconds: { type: 'string', default: '8' },
    // Also list the functions with the most self time (0: none).
    functions: { type: 'string', default: '0' },
  },
});
const profileDir = mkdtempSync(join(tmpdir(), 'gateway-profile-'));

const profiled = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
let requests;
let loadStartedAt;
let exitedAt;
let perSecond;
if (args.target === 'service') {
  const load = await startProcess(
    [...profiled, 'bench/service-load.mjs', args.kind],
    {},
    /LOAD (\d+(?:\.\d+)?)/,
  );
  await new Promise((resolve) => load.child.once('exit', resolve));
  const loadMs = Number(load.printed);
  exitedAt = Date.now();
  loadStartedAt = exitedAt - loadMs;
  requests = args.kind === 'stream' ? 600 : 40_000;
  perSecond = (requests / loadMs) * 1000;
} else {
  const upstream = await startUpstream(args.kind === 'stream' ? 64 : 8);
  const server =
    args.target === 'sample'
      ? await startSample({ adapter: args.adapter, upstreamUrl: upstream.url, nodeArgs: profiled })
      : await startBareProxy({
          adapter: args.adapter,
          upstreamUrl: upstream.url,
          nodeArgs: profiled,
        });
  const load = (seconds) =>
    autocannon({
      url: `${server.url}/v1/chat/completions`,
      method: 'POST',
      connections: 50,
      duration: seconds,
      headers: { 'content-type': 'application/json', 'x-user-id': 'bench-user' },
      body: JSON.stringify(chatBody(args.kind)),
    });
  await load(1); // warm-up: left out below
  loadStartedAt = Date.now();
  const result = await load(Number(args.seconds));
  server.child.kill('SIGTERM'); // both exit on it, and the profile is written on exit
  await new Promise((resolve) => server.child.once('exit', resolve));
  exitedAt = Date.now();
  upstream.stop();
  requests = result.requests.total;
  perSecond = result.requests.average;
}

const [file] = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const FRAMEWORK =
  /node_modules\/(express|router|body-parser|raw-body|type-is|parseurl|send|etag|finalhandler|qs|content-type|mime-types|mime-db|media-typer|on-finished|fresh|depd|statuses|iconv-lite|http-errors|encodeurl|vary|proxy-addr|forwarded|accepts|negotiator|cookie|debug|fastify|@fastify|find-my-way|light-my-request|avvio|pino|fast-json-stringify|secure-json-parse|rfdc|toad-cache|fast-querystring)\//;
function layerOf({ callFrame: { url, functionName } }) {
  if (!url) return functionName === '(garbage collector)' ? 'garbage collection' : 'native and VM';
  if (url.includes('/node_modules/rxjs/')) return 'RxJS (Nest’s interceptor pipeline)';
  if (url.includes('/node_modules/@nestjs/')) return 'Nest';
  if (url.includes('/node_modules/@opentelemetry/')) return 'OpenTelemetry metrics';
  if (url.includes('/node_modules/undici/') || url.startsWith('wasm://')) return 'undici';
  if (FRAMEWORK.test(url)) return `${args.adapter} and its middleware`;
  if (url.includes('/dist/') && !url.includes('/sample/')) return 'nestjs-inference';
  if (url.includes('/sample/dist/') || url.includes('/bench/')) return 'the app';
  if (url.includes('async_hooks')) return 'async context (AsyncLocalStorage)';
  if (url.startsWith('node:')) return 'Node (http, net, streams, events, timers)';
  return 'other';
}
// Only samples taken under the measured load count: start-up and warm-up are left out. The
// profile ends when the server exits; the load began that long before.
const loadFrom = profile.endTime - (exitedAt - loadStartedAt) * 1000;
const byLayer = new Map();
const byFunction = new Map();
let busy = 0;
let at = profile.startTime;
for (let index = 0; index < profile.samples.length; index++) {
  at += profile.timeDeltas[index];
  if (at < loadFrom) continue;
  const node = nodes.get(profile.samples[index]);
  if (node.callFrame.functionName === '(idle)') continue;
  const layer = layerOf(node);
  byLayer.set(layer, (byLayer.get(layer) ?? 0) + profile.timeDeltas[index]);
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist|sample)\//, '$1/')}:${lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + profile.timeDeltas[index]);
  busy += profile.timeDeltas[index];
}
const where =
  args.target === 'service'
    ? 'InferenceService at concurrency 50'
    : `${args.target} on ${args.adapter}`;
console.log(
  `${where}, ${args.kind}: ${requests} requests in ${((exitedAt - loadStartedAt) / 1000).toFixed(1)} s (${perSecond.toFixed(0)}/s), ` +
    `${(busy / requests).toFixed(0)} µs of busy CPU per request under the profiler (node ${process.version})`,
);
for (const [layer, micros] of [...byLayer].sort((a, b) => b[1] - a[1])) {
  console.log(
    `  ${layer.padEnd(44)} ${((micros / busy) * 100).toFixed(1).padStart(5)}%  ${(micros / requests).toFixed(0).padStart(6)} µs/request`,
  );
}
const top = Number(args.functions);
if (top > 0) console.log(`\n  the ${top} functions with the most self time:`);
for (const [name, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(
    `  ${((micros / busy) * 100).toFixed(1).padStart(5)}%  ${(micros / requests).toFixed(1).padStart(6)} µs/request  ${name}`,
  );
}
