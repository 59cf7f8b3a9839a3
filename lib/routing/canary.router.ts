import { Inject, Injectable } from '@nestjs/common';
import { INFERENCE_OPTIONS } from '../inference.constants.js';
import { ModelCatalog } from '../model/model-catalog.js';
import type { CanaryModuleOptions } from '../canary/canary-options.js';
import { CanaryRollout } from '../canary/canary.rollout.js';
import {
  InferenceRouter,
  type CallRecord,
  type RouteDecision,
  type RouteRequest,
} from './inference.router.js';
import { BUCKETS, bucketOf, onCanary } from './sticky-bucket.js';

/**
 * Routes each call to the stable or the canary provider by its sticky key's bucket and the
 * rollout's weight: a key on the canary stays there as the weight grows. Without a key the
 * bucket is random. A call whose model has no declared equivalent on the canary is ineligible:
 * stable serves it, and it is counted as such, so it is never sent under a foreign name. The
 * override header (`always` / `never`, off unless configured) forces a side while the rollout
 * is under way with fresh state; forced calls are never counted. A canary call carries the
 * stable provider as its fallback while the rollout is under way. Without a configured canary
 * every call goes to the default provider.
 */
@Injectable()
export class CanaryRouter extends InferenceRouter {
  readonly #default: RouteDecision;

  constructor(
    @Inject(INFERENCE_OPTIONS) private readonly options: CanaryModuleOptions,
    private readonly rollout: CanaryRollout,
    private readonly catalog: ModelCatalog,
  ) {
    super();
    this.#default = Object.freeze({ provider: options.defaultProvider });
  }

  route(request: RouteRequest): RouteDecision {
    const canary = this.rollout.settings;
    if (!canary) return this.#default;
    const phaseKey = this.rollout.phaseKey;
    const forced = this.#forced(request);
    if (forced !== undefined) {
      // For testing: routed as asked when the model allows it, and never counted.
      return forced && this.#eligible(request.model, canary.canary)
        ? { provider: canary.canary, side: 'canary', fallback: canary.stable }
        : { provider: canary.stable, side: 'stable' };
    }
    const weightBps = this.rollout.weightBps;
    const key = () => request.stickyKey ?? (request.headers && canary.stickyKey(request.headers));
    let toCanary: boolean;
    if (weightBps === 0 || weightBps === BUCKETS) {
      toCanary = weightBps === BUCKETS;
    } else {
      const sticky = key();
      const bucket = sticky
        ? bucketOf(this.rollout.state.salt, sticky)
        : Math.floor(this.options.random() * BUCKETS);
      toCanary = onCanary(bucket, weightBps);
    }
    if (toCanary && !this.#eligible(request.model, canary.canary)) {
      this.rollout.recordIneligible(phaseKey);
      toCanary = false;
    }
    if (toCanary) {
      return {
        provider: canary.canary,
        side: 'canary',
        fallback: phaseKey && canary.stable,
        phaseKey,
      };
    }
    const shadowBps = phaseKey === undefined ? 0 : this.rollout.shadowBps;
    const shadowModel = shadowBps > 0 ? this.#canaryModel(request.model, canary.canary) : undefined;
    if (shadowModel !== undefined) {
      // A cohort of its own (another salt), sticky like the canary's: the same users are mirrored.
      const sticky = key();
      const bucket = sticky
        ? bucketOf(`${this.rollout.state.salt}:shadow`, sticky)
        : Math.floor(this.options.random() * BUCKETS);
      if (onCanary(bucket, shadowBps)) {
        return { provider: canary.stable, side: 'stable', phaseKey, shadow: shadowModel };
      }
    }
    return { provider: canary.stable, side: 'stable', phaseKey };
  }

  record(
    decision: RouteDecision,
    error: unknown,
    latencyMs: number,
    costUsd?: number,
    call?: CallRecord,
  ): void {
    if (!decision.side) return;
    this.rollout.record(
      decision.side,
      decision.phaseKey,
      error,
      latencyMs,
      costUsd,
      decision.fallbackFrom ? { ...call, fallbackFrom: decision.fallbackFrom } : call,
    );
  }

  override feedback(requestId: string, name: string, value: number | boolean): boolean {
    return this.rollout.feedback(requestId, name, value);
  }

  /** true / false when the override header forces the canary / stable now; undefined otherwise. */
  #forced(request: RouteRequest): boolean | undefined {
    const header = this.rollout.settings!.overrideHeader;
    if (!header || !request.headers) return undefined;
    const value = request.headers[header];
    if (value !== 'always' && value !== 'never') return undefined;
    // Honoured only while the rollout runs on fresh state: never after a rollback or fast-fail.
    if (!this.rollout.overridable) return false;
    return value === 'always';
  }

  /** Whether the canary has a declared name for the model the call names (or a default one). */
  #eligible(model: string | undefined, canary: string): boolean {
    return this.#canaryModel(model, canary) !== undefined;
  }

  /** The canary's name for the model the call names (its default model when none). */
  #canaryModel(model: string | undefined, canary: string): string | undefined {
    const named = model ?? this.options.providers.get(canary)?.defaultModel;
    return named === undefined ? undefined : this.catalog.equivalent(named, canary);
  }
}
