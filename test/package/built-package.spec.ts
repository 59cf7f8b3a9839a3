import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Runs a fixture in a plain Node process, so Node's resolver (not Vite's) loads dist/. */
function load(file: string): {
  root: string[];
  testing: string[];
  terminus: string[];
  redis: string[];
  prometheus: string[];
  version?: string;
} {
  const out = execFileSync(process.execPath, [file], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out);
}

const PUBLIC_API = [
  'InferenceModule',
  'InferenceService',
  'InferenceError',
  'InferenceStream',
  'InferenceExceptionFilter',
  'InferenceInterceptor',
  'InferenceOptionsError',
  'InferenceShutdownError',
  'InflightRegistry',
  'CanaryRollout',
  'CanaryRouter',
  'InferenceRouter',
  'MemoryRolloutStore',
  'InferenceModel',
  'InferenceTelemetry',
  'ShutdownCoordinator',
  'toHttpException',
];

describe('the built package (dist/)', () => {
  beforeAll(() => {
    if (!existsSync(`${root}/dist/index.js`))
      throw new Error('dist/ is missing: run `npm run build` first (npm test does).');
  });

  it('loads with import()', () => {
    const loaded = load(fixture('load-with-import.mjs'));
    expect(loaded.root).toEqual(expect.arrayContaining(PUBLIC_API));
    expect(loaded.testing).toEqual(['SimulatedProvider']);
    expect(loaded.terminus).toEqual(['InferenceHealthIndicator']);
    expect(loaded.redis).toEqual(['RedisRolloutStore']);
    expect(loaded.prometheus).toEqual(['InferencePrometheus']);
  });

  it('loads with require() from CommonJS', () => {
    const loaded = load(fixture('load-with-require.cjs'));
    expect(loaded.root).toEqual(expect.arrayContaining(PUBLIC_API));
    expect(loaded.testing).toEqual(['SimulatedProvider']);
    expect(loaded.terminus).toEqual(['InferenceHealthIndicator']);
    expect(loaded.redis).toEqual(['RedisRolloutStore']);
    expect(loaded.prometheus).toEqual(['InferencePrometheus']);
    expect(loaded.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('keeps internals private', () => {
    const loaded = load(fixture('load-with-import.mjs'));
    expect(loaded.root).not.toContain('ProviderClient');
    expect(loaded.root).not.toContain('resolveInferenceOptions');
  });
});
