import { Inject, Injectable } from '@nestjs/common';
import { INFERENCE_OPTIONS } from '../inference.constants.js';
import type { ResolvedInferenceOptions } from '../options/resolved-options.interface.js';
import { CanaryRollout } from './canary.rollout.js';
import { InferenceRouter, type RouteDecision, type RouteRequest } from './inference.router.js';
import { BUCKETS, bucketOf, onCanary } from './sticky-bucket.js';

/**
 * Routes each call to the stable or the canary provider by its sticky key's bucket and the
 * rollout's weight: a key on the canary stays there as the weight grows. Without a key the
 * bucket is random. The override header (`always` / `never`) forces a side, for testing. A canary
 * call carries the stable provider as its fallback while the rollout is under way. Without a
 * configured canary every call goes to the default provider.
 */
@Injectable()
export class CanaryRouter extends InferenceRouter {
  readonly #default: RouteDecision;

  constructor(
    @Inject(INFERENCE_OPTIONS) private readonly options: ResolvedInferenceOptions,
    private readonly rollout: CanaryRollout,
  ) {
    super();
    this.#default = Object.freeze({ provider: options.defaultProvider });
  }

  route(request: RouteRequest): RouteDecision {
    const canary = this.rollout.settings;
    if (!canary) return this.#default;
    const weightBps = this.rollout.weightBps;
    let toCanary: boolean;
    const forced = canary.overrideHeader && request.headers?.[canary.overrideHeader];
    if (forced === 'always' || forced === 'never') {
      toCanary = forced === 'always';
    } else if (weightBps === 0 || weightBps === BUCKETS) {
      toCanary = weightBps === BUCKETS;
    } else {
      const key = request.stickyKey ?? (request.headers && canary.stickyKey(request.headers));
      const bucket = key
        ? bucketOf(this.rollout.state.salt, key)
        : Math.floor(this.options.random() * BUCKETS);
      toCanary = onCanary(bucket, weightBps);
    }
    const phaseKey = this.rollout.phaseKey;
    return toCanary
      ? { provider: canary.canary, side: 'canary', fallback: phaseKey && canary.stable, phaseKey }
      : { provider: canary.stable, side: 'stable', phaseKey };
  }

  record(decision: RouteDecision, error: unknown, latencyMs: number, costUsd?: number): void {
    if (decision.side) {
      this.rollout.record(decision.side, decision.phaseKey, error, latencyMs, costUsd);
    }
  }
}
