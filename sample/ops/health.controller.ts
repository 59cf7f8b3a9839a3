import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { InferenceHealthIndicator } from 'nestjs-inference/terminus';

/**
 * Probes for the orchestrator. Readiness fails from the first SIGTERM, so the load balancer stops
 * sending traffic while in-flight requests drain; liveness stays up until the process exits.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly inference: InferenceHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.inference.liveness()]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.inference.readiness()]);
  }

  /** Asks each provider for its model list (no tokens spent): for a status page, not for probes. */
  @Get('providers')
  @HealthCheck()
  providers() {
    return this.health.check([
      () => this.inference.provider('legacy', { provider: 'legacy' }),
      () => this.inference.provider('next', { provider: 'next' }),
    ]);
  }
}
