import type { CanaryOptions } from '../canary/canary-options.js';
import type { Clock } from '../client/clock.js';
import type { ProviderOptions } from '../client/provider-options.js';
import type { InferenceErrorOptions } from '../errors/to-http-exception.js';
import type { ShutdownOptions } from '../lifecycle/shutdown-options.js';
import type { TelemetryOptions } from '../telemetry/telemetry-options.js';

/*
 * Each concern owns its option tables (client/provider-options.ts, lifecycle/shutdown-options.ts,
 * canary/canary-options.ts, pricing/call-cost.ts); the module's options compose them. Their names
 * are exported here too, as they always were.
 */
export type {
  CanaryFastFailOptions,
  CanaryFeedbackOptions,
  CanaryOptions,
  CanaryPhase,
  CanaryShadowGate,
  CanaryShadowOptions,
  CanaryThresholds,
  CanaryWebhookOptions,
  ShadowPair,
} from '../canary/canary-options.js';
export type {
  CallTimeoutOptions,
  PoolOptions,
  ProviderOptions,
  RetryOptions,
  TimeoutOptions,
} from '../client/provider-options.js';
export type { ShutdownOptions } from '../lifecycle/shutdown-options.js';
export type { ModelPrice } from '../pricing/call-cost.js';

export interface InferenceModuleOptions {
  /** Named upstream providers, for example `{ legacy: {...}, next: {...} }`. */
  providers: Record<string, ProviderOptions>;
  /**
   * Logical models mapped to each provider's own name, for example
   * `{ chat: { legacy: 'gpt-4.1', next: 'deepseek-v3.2' } }`: a route or call naming `chat`
   * gets the right model on whichever side the canary sends it to.
   */
  models?: Record<string, Record<string, string>>;
  /**
   * Concrete model names that are the same model on different providers, for example
   * `[{ legacy: 'gpt-4.1', next: 'deepseek-v3.2' }]`: a call naming `gpt-4.1` (as SDK clients
   * do) is sent to `next` as `deepseek-v3.2`, whichever way it got there (canary routing,
   * fallback, pinning). A canary call whose model has no equivalent is served by stable.
   */
  equivalentModels?: Record<string, string>[];
  /** The provider used when a call names none. Optional when there is exactly one provider. */
  defaultProvider?: string;
  /** How the app shuts down: readiness delay, drain bound, second signal (see `ShutdownOptions`). */
  shutdown?: Partial<ShutdownOptions>;
  /** A canary rollout from one provider to another (see `CanaryOptions`). Off when absent. */
  canary?: CanaryOptions;
  /**
   * Where metrics and spans go. By default the global providers of `@opentelemetry/api` (no-ops
   * until the app registers an SDK, which it must do before the module starts). `false` turns
   * telemetry off.
   */
  telemetry?: false | TelemetryOptions;
  /**
   * How failures are shown to the app's HTTP clients by `InferenceExceptionFilter`:
   * `{ exposeProviderNames: true }` names the provider in messages (default false).
   */
  errors?: InferenceErrorOptions;
  /** Time source, for tests. Defaults to the system clock. */
  clock?: Clock;
  /** Random source in [0, 1), for retry jitter; for tests. Defaults to `Math.random`. */
  random?: () => number;
}
