import { Injectable } from '@nestjs/common';
import { InferenceRouter } from '../routing/inference.router.js';
import { ShadowMirror } from '../canary/shadow.mirror.js';
import type { ResolvedChatRequest } from '../client/provider.client.js';
import type { CallEndRecord } from './call-end.record.js';
import type { CallStep } from './call-step.js';
import type { InferenceCall } from './inference-call.js';

/**
 * The rollout's step: every chat call's end goes to the router (the judge reads it; a fallback
 * counts the canary's failure, then stable's answer), and a served stable call of the shadow
 * cohort is handed to the mirror. Embeddings say nothing about a chat rollout and are not told.
 * The route itself is chosen when the call is made, so a stream reports bad input at once.
 */
@Injectable()
export class RolloutStep implements CallStep {
  constructor(
    private readonly router: InferenceRouter,
    private readonly shadow: ShadowMirror,
  ) {}

  after(call: InferenceCall, record: CallEndRecord): void {
    // Refused before it reached a provider (by the drain or a step): it says nothing about one.
    if (call.operation === 'embeddings' || record.attempts === 0) return;
    if (record.fallbackFrom) this.#record(call, record.fallbackFrom);
    this.#record(call, record);
    const { decision } = record;
    if (decision.shadow && record.answer) {
      this.shadow.mirror({
        phaseKey: decision.phaseKey!,
        requestId: call.requestId,
        request: call.request as ResolvedChatRequest,
        canaryModel: decision.shadow,
        streamed: call.operation === 'stream',
        served: record.answer,
        servedLatencyMs: record.latencyMs,
        servedTotalMs: record.durationMs,
        servedTokens: record.usage?.completion_tokens,
        servedUsd: record.cost?.usd ?? 0,
        excluded: call.options.shadow === false,
      });
    }
  }

  #record(call: InferenceCall, record: CallEndRecord): void {
    this.router.record(record.decision, record.error, record.latencyMs, record.cost?.usd, {
      streamed: call.operation === 'stream' || undefined,
      outputTokens: record.usage?.completion_tokens,
      attempts: record.attempts,
      callerBudgets: call.options.timeouts,
      ...(record.quality && { quality: record.quality, requestId: call.requestId }),
    });
  }
}
