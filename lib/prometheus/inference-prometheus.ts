import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * A meter provider whose metrics can be read as Prometheus text, for a `GET /metrics` route:
 *
 * ```ts
 * export const prometheus = new InferencePrometheus();
 * InferenceModule.forRoot({ ..., telemetry: { meterProvider: prometheus.meterProvider } });
 * // in a controller: @Get('metrics') @Header('content-type', prometheus.contentType) metrics() { return prometheus.text(); }
 * ```
 *
 * Built on the OpenTelemetry SDK's own reader and serializer (optional peers
 * `@opentelemetry/sdk-metrics` and `@opentelemetry/exporter-prometheus`), so names, units and
 * histograms follow its OpenTelemetry-to-Prometheus rules. It starts no server of its own.
 */
export class InferencePrometheus {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  readonly meterProvider: MeterProvider;
  readonly #reader = new PrometheusExporter({ preventServerStart: true });
  readonly #serializer = new PrometheusSerializer(undefined, false, undefined, true, true);

  constructor() {
    this.meterProvider = new MeterProvider({ readers: [this.#reader] });
  }

  /** The current metrics in the Prometheus text exposition format. */
  async text(): Promise<string> {
    const { resourceMetrics } = await this.#reader.collect();
    return this.#serializer.serialize(resourceMetrics);
  }

  shutdown(): Promise<void> {
    return this.meterProvider.shutdown();
  }
}
