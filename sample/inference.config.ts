import { registerAs } from '@nestjs/config';
import type { InferenceModuleOptions } from 'nestjs-inference';
import { prometheus } from './metrics.controller.js';
import { parsePhases } from './rollout-phases.js';
import { rolloutStoreFrom } from './rollout-store.js';

/**
 * The gateway's providers, from the environment: `legacy` is the stable provider
 * (INFERENCE_*), `next` the one being migrated to (CANARY_*). Shutdown: READINESS_DELAY_MS
 * (default 5000), DRAIN_TIMEOUT_MS (default 30000), TERMINATION_GRACE_PERIOD_MS (optional: the
 * orchestrator's grace period, to warn when the drain could outlast it), KEEP_ALIVE_TIMEOUT_MS
 * (default 4000: the HTTP server's idle keep-alive timeout).
 *
 * A rollout from `legacy` to `next` starts at boot (ROLLOUT_AUTOSTART=false turns that off),
 * sticky per `x-user-id`: ROLLOUT_PHASES (`1:15m,5:30m,25:1h,50:2h,100` by default),
 * ROLLOUT_INTERVAL_MS (60000), ROLLOUT_MIN_SAMPLES (100), and REDIS_URL to share it across
 * replicas.
 */
export const inferenceConfig = registerAs(
  'inference',
  async (): Promise<InferenceModuleOptions> => ({
    providers: {
      legacy: {
        baseUrl: process.env.INFERENCE_BASE_URL ?? '',
        apiKey: process.env.INFERENCE_API_KEY ?? '',
        defaultModel: process.env.INFERENCE_MODEL ?? 'gpt-4.1',
        // Example prices, US dollars per million tokens.
        prices: {
          'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
          'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
        },
      },
      next: {
        baseUrl: process.env.CANARY_BASE_URL ?? '',
        apiKey: process.env.CANARY_API_KEY ?? '',
        defaultModel: process.env.CANARY_MODEL ?? 'deepseek-v3.2',
        prices: { 'deepseek-v3.2': { input: 0.28, cachedInput: 0.028, output: 0.42 } },
      },
    },
    // Logical models: each route names one, and each provider runs its own.
    models: {
      chat: { legacy: 'gpt-4.1', next: 'deepseek-v3.2' },
      recommend: { legacy: 'gpt-4.1-mini', next: 'deepseek-v3.2' },
    },
    defaultProvider: 'legacy',
    telemetry: { meterProvider: prometheus.meterProvider },
    shutdown: {
      readinessDelayMs: integer('READINESS_DELAY_MS', 5_000),
      drainTimeoutMs: integer('DRAIN_TIMEOUT_MS', 30_000),
      terminationGracePeriodMs: optionalInteger('TERMINATION_GRACE_PERIOD_MS'),
      keepAliveTimeoutMs: optionalInteger('KEEP_ALIVE_TIMEOUT_MS'),
    },
    canary: {
      stable: 'legacy',
      canary: 'next',
      phases: parsePhases('ROLLOUT_PHASES', process.env.ROLLOUT_PHASES),
      intervalMs: optionalInteger('ROLLOUT_INTERVAL_MS'),
      minSamples: optionalInteger('ROLLOUT_MIN_SAMPLES'),
      stickyKey: ['x-user-id'],
      autoStart: process.env.ROLLOUT_AUTOSTART !== 'false',
      store: await rolloutStoreFrom(process.env),
    },
  }),
);

/** A number from the environment; anything else is passed on for the module to reject by name. */
function integer(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

function optionalInteger(name: string): number | undefined {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? undefined : Number(raw);
}
