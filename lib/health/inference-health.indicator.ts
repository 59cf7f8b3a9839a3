import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ProviderRegistry } from '../client/provider.registry.js';
import { InflightRegistry } from '../lifecycle/inflight.registry.js';
import { ShutdownCoordinator } from '../lifecycle/shutdown.coordinator.js';

/** Default bound of a provider probe, in milliseconds. */
const PROBE_TIMEOUT_MS = 3_000;

/**
 * Terminus health indicators for orchestrators. None of them throws: each returns an `up` or
 * `down` result for `HealthCheckService.check()`.
 *
 * - `readiness()`: down from the first shutdown signal, and while no provider is usable (five
 *   calls in a row failed for the provider's own reasons). Send traffic only when up.
 * - `liveness()`: up until the process exits, through the whole drain: a draining app is alive.
 * - `provider(name)`: asks the provider for its model list (`GET /models`, no tokens spent),
 *   bounded by an AbortSignal. Use it on a status page, not in a readiness probe: a provider
 *   outage should not take every replica out of the load balancer.
 */
@Injectable()
export class InferenceHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly shutdown: ShutdownCoordinator,
    private readonly inflight: InflightRegistry,
    private readonly providers: ProviderRegistry,
  ) {}

  readiness<const Key extends string = 'inference'>(
    key: Key = 'inference' as Key,
  ): HealthIndicatorResult<Key> {
    const indicator = this.indicators.check(key);
    const phase = this.shutdown.phase;
    if (!this.shutdown.ready) {
      return indicator.down({ reason: 'shutting down', phase, inFlight: this.inflight.size });
    }
    const unusable = this.providers.clients.filter((client) => !client.health.usable);
    if (unusable.length === this.providers.clients.length) {
      return indicator.down({
        reason: 'no provider is usable',
        providers: Object.fromEntries(
          unusable.map((client) => [client.name, client.health.lastFailure ?? 'failing']),
        ),
      });
    }
    return indicator.up({ phase, inFlight: this.inflight.size });
  }

  liveness<const Key extends string = 'inference'>(
    key: Key = 'inference' as Key,
  ): HealthIndicatorResult<Key> {
    return this.indicators.check(key).up({ phase: this.shutdown.phase });
  }

  /** Probes one provider (by default the default one). Never throws; down on any failure. */
  async provider<const Key extends string>(
    key: Key,
    options: { provider?: string; timeoutMs?: number } = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const name = options.provider ?? this.providers.defaultProvider;
    const client = this.providers.clients.find((candidate) => candidate.name === name);
    if (!client) return indicator.down({ reason: `no provider is named "${name}"` });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? PROBE_TIMEOUT_MS);
    try {
      const { latencyMs } = await client.probe(controller.signal);
      return indicator.up({ provider: name, latencyMs });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return indicator.down({
        provider: name,
        reason: controller.signal.aborted
          ? 'timed out'
          : typeof code === 'string'
            ? code
            : 'failed',
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
