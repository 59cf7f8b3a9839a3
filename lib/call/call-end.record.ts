import type { Answer, AnswerQuality } from '../canary/answer-quality.js';
import type { RouteDecision } from '../routing/inference.router.js';
import type { CompletionUsage } from '../client/chat.types.js';
import type { Fault } from '../errors/index.js';
import type { CallCost } from '../pricing/call-cost.js';

/** What kind of call: a unary chat completion, a streamed one, or embeddings. */
export type CallOperation = 'chat' | 'stream' | 'embeddings';

/**
 * How a call ended: answered in full, stopped by its caller, or failed (the drain's stop included:
 * its fault says `cancelled`).
 */
export type CallOutcome = 'completed' | 'failed' | 'aborted';

/**
 * The end of a call on one provider, written once when it ends, whatever the ending, and read
 * by everything that counts: the steps (the router's judge, the shadow mirror, and next pools and
 * tenant limits), telemetry, provider health and the failed-call log. None of them times or
 * classifies a call on its own. A call that fell back ends with the record of its fallback, the
 * failed run it continues in `fallbackFrom`.
 */
export interface CallEndRecord {
  readonly operation: CallOperation;
  readonly requestId: string;
  /** Where the call ran: the provider, and the route that sent it there. */
  readonly provider: string;
  readonly decision: RouteDecision;
  /** The model as sent (the provider's own name). */
  readonly model: string;
  /** The deployment behind the provider that served it, once providers have pools. */
  readonly deployment?: string;
  readonly outcome: CallOutcome;
  /** Why it did not complete; undefined when it did. */
  readonly error?: unknown;
  /** Whose fault the failure was (`faultOf`, with the caller's own budgets); undefined on success. */
  readonly fault?: Fault;
  /** Attempts made on this provider (0 when the call was refused before any). */
  readonly attempts: number;
  /** On the module's clock, from the run's start on this provider to its end. */
  readonly durationMs: number;
  /** What the judge compares: the time to the answer, or to a stream's first chunk. */
  readonly latencyMs: number;
  readonly timeToHeadersMs?: number;
  readonly timeToFirstChunkMs?: number;
  /**
   * Streams: chunks received from the provider and handed on (a consumer that stops mid-batch
   * has not read the rest of its batch; the provider generated them, so they are billed).
   */
  readonly chunks?: number;
  readonly usage?: CompletionUsage;
  readonly cost?: CallCost;
  readonly upstreamRequestId?: string;
  readonly responseModel?: string;
  readonly responseId?: string;
  readonly finishReason?: string | null;
  /** The answer and its quality signals: completed chat calls a rollout routed. */
  readonly answer?: Answer;
  readonly quality?: AnswerQuality;
  /** The provider this failed run goes on to (a canary's fallback). */
  readonly fallback?: string;
  /** The failed run this one continues, when the call fell back. */
  readonly fallbackFrom?: CallEndRecord;
}
