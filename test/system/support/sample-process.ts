import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
export const SAMPLE_MAIN = `${root}sample/dist/main.js`;

export interface SampleExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `Date.now()` when the parent saw the exit. */
  at: number;
}

/** The built sample gateway (what `npm start` runs) in a child process. */
export interface SampleProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** stdout and stderr so far. */
  output(): string;
  /** The JSON lines the sample printed with `event: <name>`. */
  events(name: string): Record<string, unknown>[];
  exited: Promise<SampleExit>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Starts the sample with `env` on a free port and resolves once it listens. It runs as in
 * production (`NODE_ENV=production`, not the test runner's `test`), with no readiness delay
 * unless `env` gives one. Upstream variables not given are removed, so the sample starts its own
 * simulated providers for them.
 */
export async function startSample(env: Record<string, string>): Promise<SampleProcess> {
  if (!existsSync(SAMPLE_MAIN)) {
    throw new Error('sample/dist is missing: run `npm run build:sample` (npm test does).');
  }
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: '0',
    READINESS_DELAY_MS: '0',
  };
  for (const name of [
    'INFERENCE_BASE_URL',
    'INFERENCE_API_KEY',
    'CANARY_BASE_URL',
    'CANARY_API_KEY',
  ])
    delete childEnv[name];
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, [SAMPLE_MAIN], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr!.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<SampleExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const match = /listening on (http:\/\/\S+)\/v1\/chat\/completions/.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((exit) =>
      reject(
        new Error(`the sample exited (${exit.code ?? exit.signal}) before listening:\n${output}`),
      ),
    );
  });
  return {
    child,
    url,
    port: Number(new URL(url).port),
    output: () => output,
    events: (name) =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{') && line.includes(`"event":"${name}"`))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    exited,
    kill: (signal) => child.kill(signal),
  };
}
