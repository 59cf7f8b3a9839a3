import type { LoggerService } from '@nestjs/common';
import type { AnswerCollector } from '../canary/answer-quality.js';
import type { RouteDecision } from '../routing/inference.router.js';
import type { CallScope } from '../client/call-scope.js';
import type { CompletionUsage } from '../client/chat.types.js';
import type {
  ProviderClient,
  ResolvedChatRequest,
  ResolvedEmbeddingRequest,
  StreamCall,
  UnaryCall,
} from '../client/provider.client.js';
import type { Endpoint } from '../client/provider-transport.js';
import type { RetryPolicy } from '../client/retry.policy.js';
import type { InferenceError } from '../errors/index.js';
import type { CallTelemetry } from '../telemetry/call-telemetry.js';
import type { CallEndRecord, CallOperation } from './call-end.record.js';

/**
 * A call's run on one provider: what the client needs (scope, retry policy, body), the facts
 * its attempts write back, and, for a stream, what passed so far. A call has one, or two when a
 * canary call falls back to stable.
 */
export class CallLeg implements UnaryCall, StreamCall {
  attempts = 0;
  timeToHeadersMs: number | undefined;
  upstreamRequestId: string | undefined;
  rateLimit: Record<string, string> | undefined;
  /** Streams: chunks handed to the caller, when the first one was, and what the chunks said. */
  chunks = 0;
  timeToFirstChunkMs: number | undefined;
  usage: CompletionUsage | undefined;
  responseModel: string | undefined;
  finishReason: string | null | undefined;
  /** Puts a routed stream's answer back together, for its quality signals. */
  collector: AnswerCollector | undefined;

  constructor(
    readonly operation: CallOperation,
    readonly requestId: string,
    readonly decision: RouteDecision,
    readonly client: ProviderClient,
    readonly request: ResolvedChatRequest | ResolvedEmbeddingRequest,
    readonly endpoint: Endpoint,
    readonly body: string,
    readonly scope: CallScope,
    readonly retry: RetryPolicy,
    readonly headers: Record<string, string> | undefined,
    readonly telemetry: CallTelemetry,
    private readonly logger: LoggerService,
    /** The failed run this one continues (a fallback). */
    readonly fallbackFrom: CallEndRecord | undefined,
  ) {}

  retrying(attempt: number, delayMs: number, error: InferenceError): void {
    this.telemetry.retry(attempt, delayMs, error);
    this.logger.warn(
      `Retrying ${this.operation} on provider "${this.client.name}" in ${delayMs} ms after attempt ${attempt} failed: ${error.message} [request ${this.requestId}]`,
    );
  }
}
