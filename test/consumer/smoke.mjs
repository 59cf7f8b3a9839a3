/* global fetch, setTimeout, clearTimeout */
// The consumer smoke test: packs the library (`npm pack` of the built dist) and installs it into
// a small Nest 11 CommonJS app (test/consumer/app, compiled by tsc with `module: commonjs`) with
// plain `npm install`, no --legacy-peer-deps; boots it, calls `chat` and `stream` against the
// SimulatedProvider from `nestjs-inference/testing`, then sends SIGTERM with a request in flight:
// the request completes, the drain ends before the app's own onModuleDestroy, and the process
// ends by the signal, as documented.
//
// With `jest` as the fourth argument, it also runs a spec under Jest 29 + ts-jest with the
// README's configuration (transformIgnorePatterns for this ESM package).
//
// Usage: node test/consumer/smoke.mjs <label> <nest version> [<terminus version>] [jest]
//   e.g. node test/consumer/smoke.mjs lowest 11.0.0 11.0.0; node test/consumer/smoke.mjs latest ^11 ^11 jest
// Run `npm run build` first. Prints one line per check and, last, a JSON line
// {"passed":N,"failed":N}; exits non-zero if a check failed.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [label = 'latest', nest = '^11', terminus = '^11', extra] = process.argv.slice(2);
const withJest = extra === 'jest';
const repo = fileURLToPath(new URL('../..', import.meta.url));
const work = join(process.env.CONSUMER_SMOKE_DIR ?? tmpdir(), `nestjs-inference-consumer-${label}`);
const results = { passed: 0, failed: 0 };

/** Runs one check (sync or async), prints `ok` or `FAIL` with its detail, and counts it. */
async function check(name, fn) {
  try {
    const detail = await fn();
    results.passed++;
    console.log(`  ok   ${name}${detail ? `: ${detail}` : ''}`);
    return true;
  } catch (error) {
    results.failed++;
    console.log(`  FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}
function finish() {
  console.log(JSON.stringify(results));
  process.exit(results.failed > 0 ? 1 : 0);
}
function run(command, args, cwd) {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

console.log(
  `Consumer smoke (${label}): Nest ${nest}, Terminus ${terminus}, Node ${process.version}`,
);
if (!existsSync(join(repo, 'dist/index.js'))) {
  console.log('dist/ is missing: run `npm run build` first.');
  results.failed++;
  finish();
}
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
cpSync(join(repo, 'test/consumer/app'), work, { recursive: true });

let tarball;
const packed = await check('npm pack', () => {
  const out = run('npm', ['pack', '--json', '--pack-destination', work], repo);
  tarball = join(work, JSON.parse(out)[0].filename);
  return tarball.slice(work.length + 1);
});
if (!packed) finish();

writeFileSync(
  join(work, 'package.json'),
  JSON.stringify(
    {
      name: `consumer-${label}`,
      private: true,
      type: 'commonjs',
      scripts: { build: 'tsc -p tsconfig.json' },
      dependencies: {
        '@nestjs/common': nest,
        '@nestjs/core': nest,
        '@nestjs/platform-express': nest,
        '@nestjs/terminus': terminus,
        'nestjs-inference': `file:${tarball}`,
        'reflect-metadata': '^0.2.0',
        rxjs: '^7.8.0',
      },
      // What the Nest 11 starter compiles with; below 5.8, so only `module: commonjs` (node10
      // resolution, subpath types through typesVersions) loads an ESM package's types.
      devDependencies: {
        typescript: '~5.7.3',
        '@types/node': '^20.19.0',
        ...(withJest
          ? {
              '@nestjs/testing': nest,
              jest: '^29.7.0',
              'ts-jest': '^29.2.0',
              '@types/jest': '^29.5.0',
            }
          : {}),
      },
      ...(withJest
        ? {
            jest: {
              testEnvironment: 'node',
              testRegex: 'test/.*\\.jest\\.ts$',
              transform: { '^.+\\.(t|j)s$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
              transformIgnorePatterns: ['/node_modules/(?!nestjs-inference/)'],
            },
          }
        : {}),
    },
    null,
    2,
  ),
);

const installed = await check('npm install (plain: no --legacy-peer-deps)', () => {
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], work);
  const version = (name) =>
    JSON.parse(readFileSync(join(work, 'node_modules', name, 'package.json'), 'utf8')).version;
  return ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', '@nestjs/terminus']
    .map((name) => `${name}@${version(name)}`)
    .join(', ');
});
if (!installed) finish();
const compiled = await check('tsc (module commonjs, TypeScript 5.7)', () => {
  run('npx', ['tsc', '-p', 'tsconfig.json'], work);
  return 'dist/main.js';
});
if (!compiled) finish();

/** Starts the app; resolves with its URL, its output and its exit. */
async function start(env) {
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: work,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data) => (output += data));
  child.stderr.on('data', (data) => (output += data));
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 15_000);
    const look = () => {
      const match = /"event":"listening","url":"([^"]+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1].replace('[::1]', '127.0.0.1'));
      }
    };
    child.stdout.on('data', look);
    void exited.then(() => reject(new Error(`exited before listening:\n${output}`)));
  });
  return { child, url, output: () => output, exited };
}
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise(
      (_, reject) =>
        (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)),
    ),
  ]);
}

if (withJest) {
  await check('Jest 29 + ts-jest with transformIgnorePatterns (the README’s configuration)', () => {
    const out = execFileSync('npx', ['jest', '--ci'], {
      cwd: work,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return /Tests:.*/.exec(out)?.[0] ?? 'passed';
  });
}

const app = await start({ FIRST_BYTE_MS: '0' });
await check('chat (InferenceService.chat against the SimulatedProvider)', async () => {
  const response = await fetch(`${app.url}/chat`);
  const body = await response.json();
  assert(response.status === 200, `status ${response.status}: ${JSON.stringify(body)}`);
  assert(body.content === 'tok0 tok1 tok2 tok3 ', `content ${JSON.stringify(body.content)}`);
  return JSON.stringify(body.content);
});
await check('stream (InferenceService.stream through @Sse)', async () => {
  const response = await fetch(`${app.url}/stream`);
  const text = await response.text();
  assert(response.status === 200, `status ${response.status}`);
  const data = [...text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join('');
  assert(data === 'tok0 tok1 tok2 tok3 ', `stream data ${JSON.stringify(data)}`);
  return `${text.split('\n\n').filter(Boolean).length} events`;
});
app.child.kill('SIGKILL');
await app.exited;

// A request in flight at SIGTERM (the provider answers after 1.5 s).
const slow = await start({ FIRST_BYTE_MS: '1500' });
await check(
  'SIGTERM with a request in flight: it completes, drain before the app’s hooks, exit by the signal',
  async () => {
    const pending = fetch(`${slow.url}/chat`).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    slow.child.kill('SIGTERM');
    const answer = await within(pending, 10_000, 'the request in flight');
    const exit = await within(slow.exited, 10_000, 'the exit');
    const output = slow.output();
    assert(
      answer.status === 200,
      `status ${answer.status}: ${JSON.stringify(answer.body)}\n${output}`,
    );
    assert(answer.body.content === 'tok0 tok1 tok2 tok3 ', 'incomplete answer');
    const summaryAt = output.indexOf('Shutdown summary: completed=1 ');
    const ledgerAt = output.indexOf('{"event":"ledger-closed","requests":1}');
    assert(summaryAt >= 0, `no shutdown summary with the request completed:\n${output}`);
    assert(
      ledgerAt > summaryAt,
      `the app's onModuleDestroy did not come after the drain:\n${output}`,
    );
    assert(
      !/has no beforeClose\(\)/.test(output),
      'the startup warning for a missing helper appeared',
    );
    assert(exit.code === null && exit.signal === 'SIGTERM', `exit ${JSON.stringify(exit)}`);
    return `200, exit by ${exit.signal}`;
  },
);
finish();
