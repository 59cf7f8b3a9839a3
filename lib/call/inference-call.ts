import type { IncomingHttpHeaders } from 'node:http';
import type { RouteDecision } from '../routing/inference.router.js';
import type { CallTracking } from '../client/call-tracking.js';
import type { CancelSource } from '../client/cancel-source.js';
import type { ChatCompletionRequest } from '../client/chat.types.js';
import type { EmbeddingRequest } from '../client/embedding.types.js';
import type {
  ProviderClient,
  ResolvedChatRequest,
  ResolvedEmbeddingRequest,
} from '../client/provider.client.js';
import type { InflightRequest } from '../lifecycle/inflight-request.js';
import type { ModelSelection } from '../model/model-selection.js';
import type { CallEndRecord, CallOperation } from './call-end.record.js';
import type { EmbedCallOptions, StreamCallOptions } from './call-options.interface.js';
import type { CallLeg } from './call-leg.js';

/** What a call keeps of the HTTP request it was made for, read once when it was made. */
export interface CallOrigin {
  headers: IncomingHttpHeaders | undefined;
  selection: ModelSelection | undefined;
  /** The request's entry in flight: a call made under it may run while the app drains. */
  inflight: InflightRequest | undefined;
  /** Cancels the call when the HTTP client goes away. */
  cancel: CancelSource | undefined;
}

/** Where a run of the call goes: the route, its provider, the request resolved for it, as sent. */
export interface CallTarget {
  readonly decision: RouteDecision;
  readonly client: ProviderClient;
  readonly request: ResolvedChatRequest | ResolvedEmbeddingRequest;
  readonly body: string;
}

/**
 * One call, from the moment it is made to its end record: its request context (read once), its
 * options (checked once, the route's defaults applied), where it goes and the request as sent
 * there. The pipeline runs it; steps read it. Made synchronously, so bad input is reported at
 * once, even for a stream that is consumed later; nothing is sent and no step runs until it
 * starts.
 */
export class InferenceCall implements CallTarget {
  /** On the module's clock; set when the call starts. */
  startedAt = 0;
  /** The call's one deadline, fallback included; set when it starts. */
  deadline = 0;
  /** The provider run in progress (a fallback is a second one). */
  leg: CallLeg | undefined;
  tracking: CallTracking | undefined;
  /** The stream consumer's own signal (an unsubscribe, a `break`), once it consumes. */
  consumerSignal: AbortSignal | undefined;
  /** Set once the call ended; steps read the same record. */
  record: CallEndRecord | undefined;
  /** Set when the drain stopped the call: the retry delay its error asks for. */
  stoppedRetryAfterMs: number | undefined;
  /** Where a failed canary run goes on, once decided. */
  fallbackTarget: CallTarget | undefined;

  constructor(
    readonly operation: CallOperation,
    readonly requestId: string,
    /** The request as the caller gave it (a fallback resolves it again for its own provider). */
    readonly original: ChatCompletionRequest | EmbeddingRequest,
    /** The call's options, with its route's pinned provider and timeouts when it gave none. */
    readonly options: StreamCallOptions & EmbedCallOptions,
    readonly origin: CallOrigin,
    /** The route: provider, rollout side, fallback. */
    readonly decision: RouteDecision,
    readonly client: ProviderClient,
    readonly request: ResolvedChatRequest | ResolvedEmbeddingRequest,
    /** The request's body as sent to `client`. */
    readonly body: string,
    /** The call's total budget: its own `totalMs`, else its first provider's. */
    readonly totalMs: number,
  ) {}

  /** The drain stops the call: the running attempt is aborted with a shutdown error. */
  stop(retryAfterMs: number): void {
    this.stoppedRetryAfterMs = retryAfterMs;
    this.leg?.scope.stop(retryAfterMs);
  }
}
