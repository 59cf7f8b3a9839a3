import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { setUnrefTimeout, timeoutSignal } from '../client/clock.js';
import type { ProviderClient } from '../client/provider.client.js';
import { ProviderRegistry } from '../client/provider.registry.js';
import { INFERENCE_OPTIONS } from '../inference.constants.js';
import { InflightRegistry } from '../lifecycle/inflight.registry.js';
import { ShutdownCoordinator } from '../lifecycle/shutdown.coordinator.js';
import type { HealthModuleOptions } from './health-options.js';

/** Default bound of a provider probe, in milliseconds. */
const PROBE_TIMEOUT_MS = 3_000;
/** Default wait between two background probes of an unusable provider. */
const RECOVERY_PROBE_INTERVAL_MS = 5_000;

export interface ReadinessOptions {
  /**
   * Also down while no provider is usable (five calls in a row failed for the provider's own
   * reasons). Default false: readiness follows the shutdown only, so a provider outage does not
   * take every replica out of the load balancer.
   */
  requireUsableProvider?: boolean;
  /**
   * With `requireUsableProvider`: how often an unusable provider is probed in the background
   * (`GET /models`, no tokens), so it becomes usable again when it recovers, without traffic,
   * which an unready replica would never get. Default 5,000 ms.
   */
  recoveryProbeIntervalMs?: number;
}

/**
 * Terminus health indicators for orchestrators. None of them throws: each returns an `up` or
 * `down` result for `HealthCheckService.check()`.
 *
 * - `readiness()`: down from the first shutdown signal. With `requireUsableProvider`, also while
 *   no provider is usable; unusable providers are then probed in the background until they
 *   recover. Send traffic only when up.
 * - `liveness()`: up until the process exits, through the whole drain: a draining app is alive.
 * - `provider(name)`: asks the provider for its model list (`GET /models`, no tokens spent),
 *   bounded by an AbortSignal. Use it on a status page, not in a readiness probe: a provider
 *   outage should not take every replica out of the load balancer.
 */
@Injectable()
export class InferenceHealthIndicator implements OnApplicationShutdown {
  /** Background recovery probes by provider: the timer of the next one. */
  readonly #recovering = new Map<string, unknown>();
  #stopped = false;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly shutdown: ShutdownCoordinator,
    private readonly inflight: InflightRegistry,
    private readonly providers: ProviderRegistry,
    @Inject(INFERENCE_OPTIONS) private readonly options: HealthModuleOptions,
  ) {}

  readiness<const Key extends string = 'inference'>(
    key: Key = 'inference' as Key,
    options: ReadinessOptions = {},
  ): HealthIndicatorResult<Key> {
    const indicator = this.indicators.check(key);
    const phase = this.shutdown.phase;
    if (!this.shutdown.ready) {
      return indicator.down({ reason: 'shutting down', phase, inFlight: this.inflight.size });
    }
    if (options.requireUsableProvider) {
      const clients = this.providers.clients;
      const unusable = clients.filter((client) => !client.health.usable);
      for (const client of unusable) this.#recover(client, options);
      if (unusable.length === clients.length) {
        return indicator.down({
          reason: 'no provider is usable',
          providers: Object.fromEntries(
            unusable.map((client) => [client.name, client.health.lastFailure ?? 'failing']),
          ),
        });
      }
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
    const clock = this.options.clock;
    const controller = new AbortController();
    const timer = clock.setTimeout(() => controller.abort(), options.timeoutMs ?? PROBE_TIMEOUT_MS);
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
      clock.clearTimeout(timer);
    }
  }

  onApplicationShutdown(): void {
    this.#stopped = true;
    for (const timer of this.#recovering.values()) this.options.clock.clearTimeout(timer);
    this.#recovering.clear();
  }

  /**
   * Probes an unusable provider after a cool-off, and again until a probe passes (which makes
   * it usable) or the app stops. One loop per provider; its timers never hold the process open.
   */
  #recover(client: ProviderClient, options: ReadinessOptions): void {
    if (this.#stopped || this.#recovering.has(client.name)) return;
    const clock = this.options.clock;
    const intervalMs = options.recoveryProbeIntervalMs ?? RECOVERY_PROBE_INTERVAL_MS;
    const next = () => {
      if (this.#stopped || client.health.usable) {
        this.#recovering.delete(client.name);
        return;
      }
      const timer = setUnrefTimeout(
        clock,
        () => {
          const timeout = timeoutSignal(clock, Math.min(PROBE_TIMEOUT_MS, intervalMs));
          client
            .probe(timeout.signal)
            .catch(() => undefined) // the client's health counts the failure
            .finally(() => {
              timeout.clear();
              next();
            });
        },
        intervalMs,
      );
      this.#recovering.set(client.name, timer);
    };
    next();
  }
}
