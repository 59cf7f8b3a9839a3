import type { CanaryModuleOptions, ResolvedCanaryOptions } from '../canary/canary-options.js';
import type { Clock } from '../client/clock.js';
import type {
  ProviderRegistryOptions,
  ResolvedProviderOptions,
} from '../client/provider-options.js';
import type { InferenceErrorOptions } from '../errors/to-http-exception.js';
import type { HealthModuleOptions } from '../health/health-options.js';
import type { LifecycleOptions, ShutdownOptions } from '../lifecycle/shutdown-options.js';
import type { ModelCatalogOptions } from '../model/model-catalog.js';
import type {
  ResolvedTelemetryOptions,
  TelemetryModuleOptions,
} from '../telemetry/telemetry-options.js';

/* The resolved tables are owned by the concerns that read them; their names are exported here too. */
export type {
  ResolvedCanaryOptions,
  ResolvedPhase,
  ResolvedShadowOptions,
} from '../canary/canary-options.js';
export type { ResolvedProviderOptions } from '../client/provider-options.js';

/**
 * The module's options after validation, with every default filled in: what `INFERENCE_OPTIONS`
 * provides. It composes what each concern reads of it (the interfaces it extends).
 */
export interface ResolvedInferenceOptions
  extends
    ProviderRegistryOptions,
    CanaryModuleOptions,
    LifecycleOptions,
    ModelCatalogOptions,
    TelemetryModuleOptions,
    HealthModuleOptions {
  providers: ReadonlyMap<string, ResolvedProviderOptions>;
  /** Logical model → provider → the provider's model name. */
  models: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Groups of concrete names that are the same model on different providers: provider → name. */
  equivalentModels: readonly ReadonlyMap<string, string>[];
  defaultProvider: string;
  shutdown: Readonly<ShutdownOptions>;
  canary?: ResolvedCanaryOptions;
  telemetry: ResolvedTelemetryOptions;
  errors: Readonly<Required<InferenceErrorOptions>>;
  clock: Clock;
  random: () => number;
}
