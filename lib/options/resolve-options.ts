import { canaryRule, type CanaryModuleOptions } from '../canary/canary-options.js';
import { systemClock, type Clock } from '../client/clock.js';
import { providersRule, type ProviderRegistryOptions } from '../client/provider-options.js';
import { errorOptionsRule } from '../errors/to-http-exception.js';
import type { HealthModuleOptions } from '../health/health-options.js';
import { shutdownRule, type LifecycleOptions } from '../lifecycle/shutdown-options.js';
import type { ModelCatalogOptions } from '../model/model-catalog.js';
import { equivalentModelsRule, modelsRule } from '../model/model-options.js';
import {
  check,
  func,
  group,
  INVALID,
  InferenceOptionsError,
  isDict,
  OptionWords as W,
  withMethods,
  type Dict,
  type Issue,
  type Resolved,
  type Rule,
  type TableOf,
} from '../rules/index.js';
import { telemetryRule, type TelemetryModuleOptions } from '../telemetry/telemetry-options.js';
import type { InferenceModuleOptions } from './inference-options.interface.js';

/** `defaultProvider`: optional when there is exactly one provider. */
const defaultProvider =
  (names: readonly string[]): Rule<string> =>
  (value, at) => {
    if (value === undefined && names.length === 1) return names[0]!;
    if (value === undefined) {
      // With no provider at all, `providers` says so.
      if (names.length === 0) return INVALID;
      return at.fail(
        `is missing and there are several providers (${names.join(', ')}). Set defaultProvider to one of them.`,
      );
    }
    if (typeof value !== 'string') return at.fail(W.notAString(`Use one of: ${names.join(', ')}.`));
    if (names.length > 0 && !names.includes(value)) {
      return at.fail(
        `is '${value}', which is not a configured provider. Use one of: ${names.join(', ')}.`,
      );
    }
    return value;
  };

/**
 * The module's table: each concern's own, against the names the given options use (providers,
 * logical models, the rollout's two sides), so every issue is found in one pass.
 */
function moduleTable(given: Dict, env: NodeJS.ProcessEnv) {
  const providers = isDict(given.providers) ? Object.keys(given.providers) : [];
  const models = isDict(given.models) ? given.models : {};
  const logical = Object.keys(models).filter((name) => isDict(models[name]));
  const canary = isDict(given.canary) ? given.canary : {};
  const sides = new Set(
    [canary.stable, canary.canary]
      .map((side) => (typeof side === 'string' ? side.trim() : side))
      .filter((side): side is string => typeof side === 'string' && providers.includes(side)),
  );
  return {
    providers: { rule: providersRule },
    models: { rule: modelsRule(providers, [...sides]) },
    equivalentModels: { rule: equivalentModelsRule(providers, logical) },
    defaultProvider: { rule: defaultProvider(providers) },
    shutdown: { rule: shutdownRule(env) },
    canary: { rule: canaryRule(providers) },
    telemetry: { rule: telemetryRule },
    errors: { rule: errorOptionsRule },
    clock: {
      rule: withMethods<Clock>(
        ['now', 'setTimeout', 'clearTimeout'],
        '(now, setTimeout, clearTimeout) must be a function.',
      ),
      default: systemClock,
    },
    random: { rule: func<() => number>(), default: Math.random },
  } satisfies TableOf<InferenceModuleOptions>;
}

/**
 * The module's options after validation, with every default filled in: what `INFERENCE_OPTIONS`
 * provides. Inferred from the tables.
 */
export type ResolvedInferenceOptions = Resolved<ReturnType<typeof moduleTable>>;

/** What the concerns read of the resolved options: they must get it, or this does not compile. */
type ConcernsRead = CanaryModuleOptions &
  LifecycleOptions &
  ModelCatalogOptions &
  TelemetryModuleOptions &
  HealthModuleOptions;

function validate(
  input: unknown,
): { value: ResolvedInferenceOptions; issues?: undefined } | { issues: Issue[] } {
  if (!isDict(input)) {
    return { issues: [{ message: `The module options ${W.notAnObject}`, path: [] }] };
  }
  return check(group(moduleTable(input, process.env)), input);
}

/**
 * The module's options as a Standard Schema (v1) validator: the resolved options, or every issue
 * with its path. For validating them where a schema is taken, as `@nestjs/config` does.
 */
export const inferenceOptionsSchema = {
  '~standard': { version: 1, vendor: 'nestjs-inference', validate },
} as const;

/**
 * Validates the module options once, at startup, and fills in every default. Both `forRoot` and
 * `forRootAsync` go through here. Every problem is collected, so one failed start lists them all.
 */
export function resolveInferenceOptions(input: unknown): ResolvedInferenceOptions {
  const result = validate(input);
  if (result.issues) throw new InferenceOptionsError(result.issues.map((issue) => issue.message));
  return result.value satisfies ConcernsRead;
}

/** The provider registry's slice: each provider's own options, and the few shared things. */
export function providerRegistryOptions(
  options: ResolvedInferenceOptions,
): ProviderRegistryOptions {
  return {
    providers: options.providers,
    defaultProvider: options.defaultProvider,
    embeddingsProvider: options.canary?.stable ?? options.defaultProvider,
    closeGraceMs: options.shutdown.abandonGraceMs,
    clock: options.clock,
    random: options.random,
  };
}
