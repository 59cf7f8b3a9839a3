import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { InferenceHealthIndicator } from 'nestjs-inference/terminus';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { ShutdownReport } from './shutdown-report.js';

/**
 * What the platform reads: the orchestrator's probes (`/health/*`), Prometheus' `/metrics`, and
 * the shutdown's phases and summary as JSON lines on stdout.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [InferenceHealthIndicator, ShutdownReport],
})
export class OpsModule {}
