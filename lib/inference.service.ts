import { Injectable } from '@nestjs/common';
import { InferenceRouter } from './routing/inference.router.js';
import type { ChatCompletionRequest, ChatCompletionResult } from './client/chat.types.js';
import type { EmbeddingRequest, EmbeddingResult } from './client/embedding.types.js';
import { InferenceStream } from './client/inference.stream.js';
import { CallPipeline } from './call/call.pipeline.js';
import type {
  ChatCallOptions,
  EmbedCallOptions,
  StreamCallOptions,
} from './call/call-options.interface.js';

export type {
  ChatCallOptions,
  EmbedCallOptions,
  StreamCallOptions,
} from './call/call-options.interface.js';

/**
 * Chat completions against the configured OpenAI-compatible providers, with retries, timeouts,
 * typed errors and cancellation. A call that names no provider goes where the router sends it
 * (`CanaryRouter`: the stable or the canary side of a rollout); a canary call that fails before
 * any byte reached the caller is retried once on the stable provider, within the call's own
 * deadline. Every call is tracked in flight: while the app drains, a call made by an in-flight
 * request goes ahead, and any other call fails with a retryable `InferenceShutdownError`.
 */
@Injectable()
export class InferenceService {
  constructor(
    private readonly pipeline: CallPipeline,
    private readonly router: InferenceRouter,
  ) {}

  /**
   * Business feedback on a call made during a rollout (a click, a purchase, a rating):
   * attached to the side that served it and judged canary against stable. `value` is a number
   * or a boolean (true = 1). Returns false when the call is not known (not routed by the
   * rollout, a fallback, older than the last `canary.feedback.maxTracked` calls, or from a
   * phase that is over).
   */
  feedback(requestId: string, name: string, value: number | boolean): boolean {
    return this.router.feedback(requestId, name, value);
  }

  /** One completion. Resolves with the provider's answer; `result.inference` holds the metadata. */
  async chat(
    request: ChatCompletionRequest,
    options: ChatCallOptions = {},
  ): Promise<ChatCompletionResult> {
    const call = this.pipeline.make('chat', request, options);
    return (await this.pipeline.unary(call)) as ChatCompletionResult;
  }

  /**
   * A streamed completion, as an Observable and an async iterable of chunks. Nothing is sent
   * until it is subscribed or iterated, and it can be consumed once (`tee()` gives a second
   * consumer of the same upstream call); bad input is reported at once, when `stream()` is
   * called. A canary stream that fails before its first chunk continues on the stable provider,
   * within the call's deadline; after a chunk reached the caller it never does, so no token is
   * sent twice.
   */
  stream(request: ChatCompletionRequest, options: StreamCallOptions = {}): InferenceStream {
    const call = this.pipeline.make('stream', request, options);
    return new InferenceStream((signal) => this.pipeline.stream(call, signal));
  }

  /**
   * Embeddings (`POST {baseUrl}/embeddings`), through the same pool, retries, time budgets,
   * typed errors, cancellation and drain as chat, priced by input tokens. They go to the stable
   * provider during a rollout, never split by user, with no fallback (see `EmbedCallOptions`);
   * a route's `@InferenceModel({ provider })` or the call's `provider` chooses another. The model
   * comes from the request (a logical name is mapped for the provider); the route's chat model
   * does not apply. Embedding calls are not judged by the canary.
   */
  async embed(request: EmbeddingRequest, options: EmbedCallOptions = {}): Promise<EmbeddingResult> {
    const call = this.pipeline.make('embeddings', request, options);
    return (await this.pipeline.unary(call)) as EmbeddingResult;
  }
}
