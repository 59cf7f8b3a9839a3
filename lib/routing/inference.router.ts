import type { IncomingHttpHeaders } from 'node:http';
import type { CallerBudgets } from '../errors/index.js';
import type { CallFacts } from '../canary/side-metrics.js';

/** What a router knows of a call when it picks a provider. */
export interface RouteRequest {
  requestId: string;
  /** The call's own sticky key, if it gave one. */
  stickyKey?: string;
  /** The incoming request's headers, when the call is made while handling one. */
  headers?: IncomingHttpHeaders;
  /**
   * The model the call names (in its request, or through its route), before any mapping;
   * undefined when each provider's `defaultModel` applies.
   */
  model?: string;
}

/** Where a call goes. Made per call; read back by `record` when the call ends. */
export interface RouteDecision {
  provider: string;
  /** The rollout's side, when a rollout routed the call. */
  side?: 'stable' | 'canary';
  /** The provider to retry on when the call fails before any byte reached the caller. */
  fallback?: string;
  /** The rollout phase the call was routed in: figures recorded later go to that phase only. */
  phaseKey?: string;
  /** Set on a fallback: the failed call it serves instead, and that call's error. */
  fallbackFrom?: { provider: string; error: unknown };
  /**
   * A stable call in the shadow cohort: the canary's name for its model. Once its answer is
   * served, it is mirrored to the canary (`canary.shadow`) and the two answers compared.
   */
  shadow?: string;
}

/** What the service tells the router of a call when it ends, besides its outcome. */
export interface CallRecord extends CallFacts {
  /** The call's own timeouts (or its route's): running out of one is the caller's deadline. */
  callerBudgets?: CallerBudgets;
}

/**
 * Picks the provider of each call that does not name one. `InferenceModule` uses `CanaryRouter`;
 * pass `router: YourRouter` (a class extending this one) to replace it.
 */
export abstract class InferenceRouter {
  abstract route(request: RouteRequest): RouteDecision;
  /**
   * The call's outcome: `error` undefined on success; `latencyMs` to the answer or first chunk;
   * `costUsd` what it cost, when priced; `call` whether it streamed, its output tokens and
   * attempts. Called once per call, cancelled ones and fallbacks included.
   */
  abstract record(
    decision: RouteDecision,
    error: unknown,
    latencyMs: number,
    costUsd?: number,
    call?: CallRecord,
  ): void;

  /**
   * Business feedback on a call this router routed (`InferenceService.feedback`); true when it
   * was attached to the side that served it. This base class keeps none.
   */
  feedback(_requestId: string, _name: string, _value: number | boolean): boolean {
    return false;
  }
}
