import { defineConfig } from 'vitest/config';

const SIMULATIONS = 'test/unit/canary/monte-carlo.spec.ts';
/** Loads the sample for half a minute: run after the rest, so it cannot slow their timings. */
const LOAD = 'test/system/sample-memory.system.spec.ts';
const KEEP_ALIVE_CALLERS = 'test/system/keep-alive-callers.system.spec.ts';

export default defineConfig({
  // The sample imports the package by name, as users do; tests run it from source.
  resolve: {
    alias: [
      {
        find: /^nestjs-inference\/canary$/,
        replacement: new URL('./lib/canary/index.ts', import.meta.url).pathname,
      },
      {
        find: /^nestjs-inference\/testing$/,
        replacement: new URL('./lib/testing/index.ts', import.meta.url).pathname,
      },
      {
        find: /^nestjs-inference\/prometheus$/,
        replacement: new URL('./lib/prometheus/index.ts', import.meta.url).pathname,
      },
      {
        find: /^nestjs-inference\/redis$/,
        replacement: new URL('./lib/redis/index.ts', import.meta.url).pathname,
      },
      {
        find: /^nestjs-inference\/terminus$/,
        replacement: new URL('./lib/health/index.ts', import.meta.url).pathname,
      },
      {
        find: /^nestjs-inference$/,
        replacement: new URL('./lib/index.ts', import.meta.url).pathname,
      },
    ],
  },
  // Nest's dependency injection reads constructor types from decorator metadata.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // CPU-bound simulations run first, on their own, so they cannot slow the timing-sensitive
    // system tests (readiness within 10 ms of SIGTERM) on a small machine. The keep-alive callers'
    // repetitions (two replicas under load at a time) run last, on their own, for the same reason.
    projects: [
      {
        extends: true,
        test: { name: 'simulation', include: [SIMULATIONS], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'suite',
          // The sample's own tests live beside it, in sample/test/.
          include: ['test/**/*.spec.ts', 'sample/test/**/*.spec.ts'],
          exclude: [SIMULATIONS, LOAD, KEEP_ALIVE_CALLERS],
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: { name: 'load', include: [LOAD], sequence: { groupOrder: 2 } },
      },
      {
        extends: true,
        test: {
          name: 'keep-alive-callers',
          include: [KEEP_ALIVE_CALLERS],
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
