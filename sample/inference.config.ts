import { registerAs } from '@nestjs/config';
import type { InferenceModuleOptions } from 'nestjs-inference';
import { prometheus } from './metrics.controller.js';
import { parsePhases, withShadowPhase } from './rollout-phases.js';
import { rolloutStoreFrom } from './rollout-store.js';

/**
 * The gateway's providers, from the environment: `legacy` is the stable provider
 * (INFERENCE_*), `next` the one being migrated to (CANARY_*). Shutdown: READINESS_DELAY_MS
 * (default 5000), DRAIN_TIMEOUT_MS (default 30000), ABANDON_GRACE_MS (default 1000),
 * TERMINATION_GRACE_PERIOD_MS (optional: the orchestrator's grace period, to warn when the
 * drain could outlast it), KEEP_ALIVE_TIMEOUT_MS (default 4000: the HTTP server's idle
 * keep-alive timeout). Upstream budgets, for both providers (the module's defaults when unset):
 * UPSTREAM_TOTAL_MS (120000: a whole call, retries included), UPSTREAM_FIRST_CHUNK_MS (60000: a
 * stream's silence before its first chunk) and UPSTREAM_IDLE_MS (30000: between two chunks).
 *
 * A rollout from `legacy` to `next` starts at boot (ROLLOUT_AUTOSTART=false turns that off),
 * sticky per `x-user-id`: ROLLOUT_PHASES (`1:15m,5:30m,25:1h,50:2h,100` by default),
 * ROLLOUT_INTERVAL_MS (60000), ROLLOUT_MIN_SAMPLES (100), ROLLOUT_SHADOW_PERCENT (a shadow phase
 * first, for ROLLOUT_SHADOW_DURATION, 15m), and REDIS_URL to share it across
 * replicas. ROLLOUT_OVERRIDE_HEADER (a header name, or `true` for `x-inference-canary`) lets
 * testers force a side; it is off unless set.
 *
 * SDK clients always name a model: INFERENCE_MODEL on legacy is declared the same model as
 * CANARY_MODEL on next, so a call naming either reaches each side under that side's own name.
 * A model with no equivalent on next (`gpt-4.1-mini`) stays on legacy.
 */
export const inferenceConfig = registerAs(
  'inference',
  async (): Promise<InferenceModuleOptions> => ({
    providers: {
      legacy: {
        baseUrl: process.env.INFERENCE_BASE_URL ?? '',
        apiKey: process.env.INFERENCE_API_KEY ?? '',
        defaultModel: stableModel(),
        timeouts: upstreamTimeouts(),
        // Example prices, US dollars per million tokens.
        prices: {
          'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
          'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
          'text-embedding-3-small': { input: 0.02, output: 0 },
        },
      },
      next: {
        baseUrl: process.env.CANARY_BASE_URL ?? '',
        apiKey: process.env.CANARY_API_KEY ?? '',
        defaultModel: canaryModel(),
        timeouts: upstreamTimeouts(),
        prices: {
          'deepseek-v3.2': { input: 0.28, cachedInput: 0.028, output: 0.42 },
          'bge-m3': { input: 0.01, output: 0 },
        },
      },
    },
    // Logical models: each route names one, and each provider runs its own.
    models: {
      chat: { legacy: 'gpt-4.1', next: 'deepseek-v3.2' },
      recommend: { legacy: 'gpt-4.1-mini', next: 'deepseek-v3.2' },
      // Embeddings stay on the stable provider during a rollout; the name maps when pinned.
      embed: { legacy: 'text-embedding-3-small', next: 'bge-m3' },
    },
    // What SDK clients name: the same model under each provider's own name.
    equivalentModels: [{ legacy: stableModel(), next: canaryModel() }],
    defaultProvider: 'legacy',
    telemetry: { meterProvider: prometheus.meterProvider },
    shutdown: {
      readinessDelayMs: integer('READINESS_DELAY_MS', 5_000),
      drainTimeoutMs: integer('DRAIN_TIMEOUT_MS', 30_000),
      abandonGraceMs: integer('ABANDON_GRACE_MS', 1_000),
      terminationGracePeriodMs: optionalInteger('TERMINATION_GRACE_PERIOD_MS'),
      keepAliveTimeoutMs: optionalInteger('KEEP_ALIVE_TIMEOUT_MS'),
    },
    canary: {
      stable: 'legacy',
      canary: 'next',
      phases: withShadowPhase(
        parsePhases('ROLLOUT_PHASES', process.env.ROLLOUT_PHASES),
        process.env.ROLLOUT_SHADOW_PERCENT,
        process.env.ROLLOUT_SHADOW_DURATION,
      ),
      intervalMs: optionalInteger('ROLLOUT_INTERVAL_MS'),
      minSamples: optionalInteger('ROLLOUT_MIN_SAMPLES'),
      stickyKey: ['x-user-id'],
      overrideHeader: overrideHeader(process.env.ROLLOUT_OVERRIDE_HEADER),
      autoStart: process.env.ROLLOUT_AUTOSTART !== 'false',
      store: await rolloutStoreFrom(process.env),
    },
  }),
);

/** The upstream time budgets the environment sets, for both providers. */
function upstreamTimeouts(): { totalMs?: number; firstChunkMs?: number; idleMs?: number } {
  return {
    totalMs: optionalInteger('UPSTREAM_TOTAL_MS'),
    firstChunkMs: optionalInteger('UPSTREAM_FIRST_CHUNK_MS'),
    idleMs: optionalInteger('UPSTREAM_IDLE_MS'),
  };
}

function stableModel(): string {
  return process.env.INFERENCE_MODEL || 'gpt-4.1';
}

function canaryModel(): string {
  return process.env.CANARY_MODEL || 'deepseek-v3.2';
}

/** Off unless set: `true` for `x-inference-canary`, or a header name. */
function overrideHeader(raw: string | undefined): string | boolean {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  return raw === 'true' ? true : raw;
}

/** A number from the environment; anything else is passed on for the module to reject by name. */
function integer(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

function optionalInteger(name: string): number | undefined {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? undefined : Number(raw);
}
