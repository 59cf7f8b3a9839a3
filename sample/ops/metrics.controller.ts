import { Controller, Get, Header } from '@nestjs/common';
import { InferencePrometheus } from 'nestjs-inference/prometheus';

/** The gateway's metrics, read by the module's telemetry through this meter provider. */
export const prometheus = new InferencePrometheus();

/** `GET /metrics`: Prometheus text exposition of the module's metrics. */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('content-type', prometheus.contentType)
  metrics(): Promise<string> {
    return prometheus.text();
  }
}
