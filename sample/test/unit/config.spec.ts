import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Environment } from '../../config/environment.js';
import { gatewayConfig } from '../../config/gateway.config.js';
import { inferenceConfig } from '../../config/inference.config.js';
import { rolloutConfig } from '../../config/rollout.config.js';
import { DEFAULT_BODY_LIMIT_BYTES, serverConfig } from '../../config/server.config.js';

const SAMPLE = fileURLToPath(new URL('../../', import.meta.url));
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** The sample's own source files (not its tests, not its build), relative to `sample/`. */
function sources(dir = SAMPLE): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['dist', 'test'].includes(entry.name) ? [] : sources(path);
    return entry.name.endsWith('.ts') ? [relative(SAMPLE, path)] : [];
  });
}
const read = (file: string) => readFileSync(join(SAMPLE, file), 'utf8');

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the sample’s configuration', () => {
  it('has the documented defaults when the environment sets nothing', async () => {
    expect(serverConfig()).toEqual({
      port: 3000,
      host: '127.0.0.1',
      adapter: 'express',
      shutdownHooks: 'nest',
      bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES,
    });
    expect(gatewayConfig()).toEqual({
      allowProviderHeader: false,
      responseHeaders: false,
      relayRateLimits: false,
    });
    expect(rolloutConfig()).toEqual({ adminToken: undefined, readToken: undefined });
    const inference = await inferenceConfig();
    expect(inference.shutdown).toMatchObject({
      readinessDelayMs: 5_000,
      drainTimeoutMs: 30_000,
      abandonGraceMs: 1_000,
    });
    expect(inference.canary).toMatchObject({ autoStart: true, overrideHeader: false });
    expect(inference.equivalentModels).toEqual([{ legacy: 'gpt-4.1', next: 'deepseek-v3.2' }]);
  });

  it('reads each variable as it always has', async () => {
    for (const [name, value] of Object.entries({
      PORT: '0',
      HTTP_ADAPTER: 'fastify',
      SHUTDOWN_HOOKS: 'inference',
      BODY_LIMIT_BYTES: '1024',
      GATEWAY_RESPONSE_HEADERS: 'true',
      ROLLOUT_AUTOSTART: 'false',
      ROLLOUT_OVERRIDE_HEADER: 'x-force-side',
      ROLLOUT_SHADOW_PERCENT: '10',
      ROLLOUT_PHASES: '5:30m,100',
      ROLLOUT_READ_TOKEN: 'reader',
      UPSTREAM_TOTAL_MS: '90000',
    })) {
      vi.stubEnv(name, value);
    }
    expect(serverConfig()).toMatchObject({
      port: 0,
      adapter: 'fastify',
      shutdownHooks: 'inference',
      bodyLimitBytes: 1024,
    });
    expect(gatewayConfig().responseHeaders).toBe(true);
    expect(rolloutConfig().readToken).toBe('reader');
    const { canary, providers } = await inferenceConfig();
    expect(canary).toMatchObject({ autoStart: false, overrideHeader: 'x-force-side' });
    expect(canary?.phases).toEqual([
      { weight: 0, durationMs: 900_000, shadow: 10 },
      { weight: 5, durationMs: 1_800_000 },
      { weight: 100 },
    ]);
    expect(providers.legacy!.timeouts).toMatchObject({ totalMs: 90_000 });
  });

  it('fails the start on a bad value, naming every variable at fault', async () => {
    vi.stubEnv('PORT', '70000');
    vi.stubEnv('HTTP_ADAPTER', 'koa');
    vi.stubEnv('BODY_LIMIT_BYTES', '25MB');
    expect(() => serverConfig()).toThrow(
      [
        'The server configuration is invalid:',
        "- PORT must be an integer from 0 to 65535, got '70000'.",
        "- HTTP_ADAPTER must be one of express, fastify, got 'koa'.",
        "- BODY_LIMIT_BYTES must be a positive integer number of bytes, got '25MB'.",
      ].join('\n'),
    );
    vi.stubEnv('ALLOW_PROVIDER_HEADER', 'yes');
    expect(() => gatewayConfig()).toThrow(/ALLOW_PROVIDER_HEADER must be true or false, got 'yes'/);
    vi.stubEnv('READINESS_DELAY_MS', '5s');
    vi.stubEnv('ROLLOUT_PHASES', '1:15min');
    vi.stubEnv('ROLLOUT_OVERRIDE_HEADER', 'x canary');
    await expect(inferenceConfig()).rejects.toThrow(
      /ROLLOUT_PHASES has a phase '1:15min'[\s\S]*READINESS_DELAY_MS must be a non-negative integer, got '5s'[\s\S]*ROLLOUT_OVERRIDE_HEADER must be true, false or a header name/,
    );
  });

  it('takes an empty variable as unset', () => {
    const env = new Environment({ A: '', B: '7' });
    expect([env.text('A', 'default'), env.integer('A', { fallback: 1 }), env.integer('B')]).toEqual(
      ['default', 1, 7],
    );
    expect(() => env.check('test')).not.toThrow();
  });
});

describe('the sample’s layout', () => {
  it('reads the environment in config/ alone, and in the development entry point', () => {
    const readers = sources().filter((file) => read(file).includes('process.env'));
    expect(readers.sort()).toEqual(['config/environment.ts', 'main.ts']);
  });

  it('keeps the simulated providers out of the app: only main.ts starts them', () => {
    const importers = sources().filter((file) =>
      /from '(\.\.?\/)+dev\/|nestjs-inference\/testing/.test(read(file)),
    );
    expect(importers.sort()).toEqual(['dev/simulated-upstreams.ts', 'main.ts']);
  });

  it('reads every variable the README lists for the sample', () => {
    const readme = readFileSync(README, 'utf8');
    const table = readme.slice(
      readme.indexOf('## The sample gateway'),
      readme.indexOf('## Deploying'),
    );
    const documented = new Set(
      [...table.matchAll(/^\| (.+?) \|/gm)].flatMap(([, cell]) =>
        [...cell!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map(([, name]) => name!),
      ),
    );
    expect(documented.size).toBeGreaterThan(30);
    const code = sources().map(read).join('\n');
    const missing = [...documented].filter(
      (name) => !code.includes(`'${name}'`) && !code.includes(`env.${name}`),
    );
    expect(missing).toEqual([]);
  });
});
