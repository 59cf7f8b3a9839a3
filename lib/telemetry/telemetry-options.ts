import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import {
  group,
  optional,
  withMethods,
  type Rule,
  type RuleValue,
  type TableOf,
} from '../rules/index.js';

/**
 * Where metrics and spans go. By default the global providers of `@opentelemetry/api` (no-ops
 * until the app registers an SDK, which it must do before the module starts).
 */
export interface TelemetryOptions {
  meterProvider?: MeterProvider;
  tracerProvider?: TracerProvider;
}

const otel = <T>(method: string) =>
  optional(
    withMethods<T>(
      [method],
      `must be an OpenTelemetry provider with a ${method}() method, such as the SDK's.`,
    ),
  );

const TELEMETRY = {
  meterProvider: { rule: otel<MeterProvider>('getMeter') },
  tracerProvider: { rule: otel<TracerProvider>('getTracer') },
} satisfies TableOf<TelemetryOptions>;

/** `telemetry`: `false` turns it off; else the given providers, or the global ones. */
const telemetryGroup = group(TELEMETRY, (providers) => ({
  enabled: true as boolean,
  ...providers,
}));

/** Where metrics and spans go, once resolved: off, or the given providers (else the global ones). */
export type ResolvedTelemetryOptions = RuleValue<typeof telemetryGroup>;

export const telemetryRule: Rule<ResolvedTelemetryOptions> = (value, at) =>
  value === false ? { enabled: false } : telemetryGroup(value, at);

/** What the telemetry reads of the module's resolved options. */
export interface TelemetryModuleOptions {
  telemetry: ResolvedTelemetryOptions;
}
