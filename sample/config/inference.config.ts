import { registerAs } from '@nestjs/config';
import type { InferenceModuleOptions } from 'nestjs-inference';
import { prometheus } from '../ops/metrics.controller.js';
import { parsePhases, withShadowPhase } from '../rollout/rollout-phases.js';
import { rolloutStoreFrom } from '../rollout/rollout-store.js';
import { Environment } from './environment.js';

/** A header name as RFC 9110 spells a token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

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
 *
 * Values are checked here as far as the environment goes (numbers, flags, the phases' syntax),
 * naming the variable; the module checks the rest when it resolves its options.
 */
export const inferenceConfig = registerAs(
  'inference',
  async (): Promise<InferenceModuleOptions> => {
    const env = new Environment();
    const stableModel = env.text('INFERENCE_MODEL', 'gpt-4.1');
    const canaryModel = env.text('CANARY_MODEL', 'deepseek-v3.2');
    const timeouts = {
      totalMs: env.integer('UPSTREAM_TOTAL_MS'),
      firstChunkMs: env.integer('UPSTREAM_FIRST_CHUNK_MS'),
      idleMs: env.integer('UPSTREAM_IDLE_MS'),
    };
    const phases = env.parsed('ROLLOUT_PHASES', (raw) => parsePhases('ROLLOUT_PHASES', raw));
    const options = {
      providers: {
        legacy: {
          baseUrl: env.text('INFERENCE_BASE_URL', ''),
          apiKey: env.text('INFERENCE_API_KEY', ''),
          defaultModel: stableModel,
          timeouts,
          // Example prices, US dollars per million tokens.
          prices: {
            'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
            'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
            'text-embedding-3-small': { input: 0.02, output: 0 },
          },
        },
        next: {
          baseUrl: env.text('CANARY_BASE_URL', ''),
          apiKey: env.text('CANARY_API_KEY', ''),
          defaultModel: canaryModel,
          timeouts,
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
      equivalentModels: [{ legacy: stableModel, next: canaryModel }],
      defaultProvider: 'legacy',
      telemetry: { meterProvider: prometheus.meterProvider },
      shutdown: {
        readinessDelayMs: env.integer('READINESS_DELAY_MS', { fallback: 5_000 }),
        drainTimeoutMs: env.integer('DRAIN_TIMEOUT_MS', { fallback: 30_000 }),
        abandonGraceMs: env.integer('ABANDON_GRACE_MS', { fallback: 1_000 }),
        terminationGracePeriodMs: env.integer('TERMINATION_GRACE_PERIOD_MS'),
        keepAliveTimeoutMs: env.integer('KEEP_ALIVE_TIMEOUT_MS'),
      },
      canary: {
        stable: 'legacy',
        canary: 'next',
        phases: env.parsed('ROLLOUT_SHADOW_PERCENT', (raw) =>
          withShadowPhase(phases, raw, env.text('ROLLOUT_SHADOW_DURATION')),
        ),
        intervalMs: env.integer('ROLLOUT_INTERVAL_MS'),
        minSamples: env.integer('ROLLOUT_MIN_SAMPLES'),
        stickyKey: ['x-user-id'],
        overrideHeader: env.parsed('ROLLOUT_OVERRIDE_HEADER', overrideHeader),
        autoStart: env.flag('ROLLOUT_AUTOSTART', true),
      },
    } satisfies InferenceModuleOptions;
    const redisUrl = env.text('REDIS_URL');
    env.check('inference');
    return { ...options, canary: { ...options.canary, store: await rolloutStoreFrom(redisUrl) } };
  },
);

/** Off unless set: `true` for `x-inference-canary`, or a header name. */
function overrideHeader(raw: string | undefined): string | boolean {
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (!HEADER_NAME.test(raw)) {
    throw new Error(`ROLLOUT_OVERRIDE_HEADER must be true, false or a header name, got '${raw}'.`);
  }
  return raw;
}
