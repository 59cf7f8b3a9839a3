import type { MeterProvider, TracerProvider } from '@opentelemetry/api';

/** Where metrics and spans go, once resolved: off, or the given providers (else the global ones). */
export interface ResolvedTelemetryOptions {
  enabled: boolean;
  meterProvider?: MeterProvider;
  tracerProvider?: TracerProvider;
}

/** What the telemetry reads of the module's resolved options. */
export interface TelemetryModuleOptions {
  telemetry: ResolvedTelemetryOptions;
}
