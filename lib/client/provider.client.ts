import type { InferenceError } from '../errors/index.js';
import { CallScope } from './call-scope.js';
import type { CancelSource } from './cancel-source.js';
import type { ChatCompletion, ChatCompletionRequest, CompletionUsage } from './chat.types.js';
import type { EmbeddingRequest, EmbeddingResponse } from './embedding.types.js';
import type { Clock } from './clock.js';
import { openStreamAttempt, streamBody, type OpenStream } from './completion-stream.js';
import { ProviderHealth } from './provider-health.js';
import type { CallTimeoutOptions, ResolvedProviderOptions } from './provider-options.js';
import { ProviderTransport, type Endpoint } from './provider-transport.js';
import { readBody } from './response-body.js';
import { withRetries, type Attempt } from './retry-loop.js';
import type { RetryPolicy } from './retry.policy.js';
import type { UpstreamCall } from './upstream-call.js';
import { UpstreamFault } from './upstream-fault.js';

/** A request with its model settled: what is sent upstream. */
export type ResolvedChatRequest = ChatCompletionRequest & { model: string };
export type ResolvedEmbeddingRequest = EmbeddingRequest & { model: string };

/** A unary answer: what the provider sent, parsed and checked. */
export type UnaryAnswer = ChatCompletion | EmbeddingResponse;

/**
 * One upstream provider: its connection pool, and the two shapes of call it serves (a unary
 * answer read whole, a stream opened once its first chunk is in hand), each retried within the
 * call's scope. Response bodies are always read to the end, discarded within bounds, or
 * destroyed: no socket is left behind. What a call means (routing, its record, its cost, the
 * provider's health) is the call pipeline's: the client reports facts on the `UpstreamCall`.
 */
export class ProviderClient {
  readonly name: string;
  /** Whether the provider looks usable, from recent calls and probes. */
  readonly health = new ProviderHealth();
  readonly #transport: ProviderTransport;
  /** Made once: the attempt functions take the call as an argument, so a call makes no closure. */
  readonly #unaryAttempt: (call: UnaryCall, attempt: Attempt) => Promise<UnaryAnswer>;
  readonly #streamAttempt: (call: StreamCall, attempt: Attempt) => Promise<OpenStream>;

  constructor(
    readonly options: ResolvedProviderOptions,
    private readonly clock: Clock,
    random: () => number,
  ) {
    this.name = options.name;
    const transport = new ProviderTransport(options, clock, random);
    this.#transport = transport;
    const maxBytes = options.maxResponseBytes;
    this.#unaryAttempt = async (call, attempt) => {
      const response = await transport.send(call.endpoint, call.body, false, call, attempt);
      call.timeToHeadersMs = call.scope.elapsedMs();
      attempt.phase = 'body';
      const text = await readBody(response.body, attempt.scope, maxBytes);
      return call.endpoint === 'chat' ? parseCompletion(text) : parseEmbeddings(text);
    };
    this.#streamAttempt = (call, attempt) => openStreamAttempt(transport, call.body, call, attempt);
  }

  /** The pool's live figures: connected sockets, requests running and queued. */
  get stats(): { connected: number; free: number; running: number; pending: number; size: number } {
    const { connected, free, running, pending, size } = this.#transport.stats;
    return { connected, free, running, pending, size };
  }

  /** A call's scope on this provider (see `ProviderTransport.scope`). */
  scope(
    timeouts: CallTimeoutOptions | undefined,
    signals: readonly (CancelSource | undefined)[],
    deadline?: number,
  ): CallScope {
    return this.#transport.scope(timeouts, signals, deadline);
  }

  /** The provider's retry policy, or one with the call's own `maxRetries`. */
  retryPolicy(maxRetries: number | undefined): RetryPolicy {
    return this.#transport.retryPolicy(maxRetries);
  }

  /** The body of a chat request: unary, or streamed (with usage asked for, see `streamBody`). */
  chatBody(request: ResolvedChatRequest, streamed: boolean): string {
    return streamed
      ? streamBody(request, this.options.streamUsage)
      : JSON.stringify(unaryBody(request));
  }

  /**
   * A unary call (`POST …/chat/completions` or `…/embeddings`) with retries: the answer is read
   * whole (up to `maxResponseBytes`), parsed and checked.
   */
  unary(call: UnaryCall): Promise<UnaryAnswer> {
    return withRetries(this.#transport, call, this.#unaryAttempt);
  }

  /**
   * Opens a streamed completion: retried until its first chunk is in hand, never after (the
   * caller would get content twice). The caller reads on from `reader`, and owns `response`.
   */
  openStream(call: StreamCall): Promise<OpenStream> {
    return withRetries(this.#transport, call, this.#streamAttempt);
  }

  /** Types whatever a stream threw after it opened, once. */
  classify(thrown: unknown, call: UpstreamCall, attempt: Attempt): InferenceError {
    return this.#transport.classify(thrown, call.scope, call.requestId, attempt);
  }

  /**
   * Asks the provider for its model list (`GET /models`), which spends no tokens. Resolves with
   * the time it took; throws a typed error when the provider cannot be reached or answers with an
   * error status. `signal` bounds it.
   */
  async probe(signal: AbortSignal): Promise<{ latencyMs: number }> {
    const startedAt = this.clock.now();
    const requestId = `probe-${startedAt}`;
    const scope = new CallScope(this.clock, this.options.timeouts, [signal]);
    const attempt: Attempt = { number: 1, phase: 'headers', scope: scope.startAttempt() };
    try {
      await this.#transport.probe(scope, requestId, attempt);
      this.health.succeeded();
      return { latencyMs: this.clock.now() - startedAt };
    } catch (thrown) {
      const error = this.#transport.classify(thrown, scope, requestId, attempt);
      this.health.failed(error);
      throw error;
    } finally {
      scope.dispose();
    }
  }

  /** Waits for running requests, then closes every socket. */
  close(): Promise<void> {
    return this.#transport.close();
  }

  /** Closes every socket now, failing whatever is still running. */
  destroy(): Promise<void> {
    return this.#transport.destroy();
  }
}

/** A unary call on one provider: where it goes and its body, as sent. */
export interface UnaryCall extends UpstreamCall {
  readonly endpoint: Endpoint;
  readonly body: string;
}

/** A streamed call on one provider: its body, as sent. */
export interface StreamCall extends UpstreamCall {
  readonly body: string;
}

/** The request as a unary call: no `stream`, no `stream_options` (valid only when streaming). */
function unaryBody(request: ResolvedChatRequest): ChatCompletionRequest {
  // Most requests need no change: serialising them as they are is three times cheaper.
  if (!request.stream && request.stream_options === undefined) return request;
  const { stream: _stream, stream_options: _options, ...rest } = request;
  return rest as ChatCompletionRequest;
}

function parseCompletion(text: string): ChatCompletion {
  return parseAnswer<ChatCompletion>(text, 'choices', 'a chat completion');
}

function parseEmbeddings(text: string): EmbeddingResponse {
  return parseAnswer<EmbeddingResponse>(text, 'data', 'an embeddings list');
}

/** A JSON answer that has the array `field`, or a protocol fault saying what it is not. */
function parseAnswer<T>(text: string, field: string, what: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UpstreamFault('protocol', 'the response body is not valid JSON');
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !Array.isArray((parsed as Record<string, unknown>)[field])
  ) {
    throw new UpstreamFault('protocol', `the response is not ${what} (no ${field} array)`);
  }
  return parsed as T;
}

/** Reported usage as the metadata holds it: embeddings report no completion tokens (0). */
export function usageOf(usage: Partial<CompletionUsage> | undefined): CompletionUsage | undefined {
  if (typeof usage?.prompt_tokens !== 'number') return undefined;
  if (typeof usage.completion_tokens === 'number') return usage as CompletionUsage;
  return {
    ...usage,
    completion_tokens: 0,
    total_tokens: usage.total_tokens ?? usage.prompt_tokens,
  } as CompletionUsage;
}
