import type { LoggerService } from '@nestjs/common';
import type { InferenceError } from '../errors/index.js';
import type { ResolvedProviderOptions } from '../options/index.js';
import type { CallTracking, TrackCall } from './call-tracking.js';
import { CallScope } from './call-scope.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatCompletionResult,
  CompletionUsage,
  InferenceMetadata,
  StreamSummary,
} from './chat.types.js';
import type { EmbeddingRequest, EmbeddingResponse, EmbeddingResult } from './embedding.types.js';
import type { Clock } from './clock.js';
import { completionStream } from './completion-stream.js';
import { ProviderHealth } from './provider-health.js';
import { ProviderTransport, type Endpoint, type TransportCall } from './provider-transport.js';
import { readBody } from './response-body.js';
import { withRetries, type Attempt, type RetryHooks } from './retry-loop.js';
import { UpstreamFault } from './upstream-fault.js';

export interface ProviderCallOptions extends TransportCall {
  /** Lets the application's lifecycle follow the call, and stop it at its drain deadline. */
  track?: TrackCall;
  /** Told before each retry: the attempt that failed, the backoff, and why. */
  onRetry?: (attempt: number, delayMs: number, error: InferenceError) => void;
}

export interface ProviderStreamOptions extends ProviderCallOptions {
  onEnd?: (summary: StreamSummary) => void;
  /** Given each chunk as it is handed to the caller. */
  onChunk?: (chunk: ChatCompletionChunk) => void;
}

/** A request with its model settled: what is sent upstream. */
export type ResolvedChatRequest = ChatCompletionRequest & { model: string };
export type ResolvedEmbeddingRequest = EmbeddingRequest & { model: string };

/**
 * One upstream provider: chat completions (unary and streamed) and embeddings over its
 * connection pool, with
 * timeouts, retries and cancellation, and its health from the outcome of each call. Response
 * bodies are always read to the end, discarded within bounds, or destroyed: no socket is left
 * behind. Cost is not computed here: the service prices what the call reports.
 */
export class ProviderClient {
  readonly name: string;
  /** Whether the provider looks usable, from recent calls and probes. */
  readonly health = new ProviderHealth();
  readonly #transport: ProviderTransport;

  constructor(
    readonly options: ResolvedProviderOptions,
    private readonly clock: Clock,
    random: () => number,
    private readonly logger: LoggerService,
  ) {
    this.name = options.name;
    this.#transport = new ProviderTransport(options, clock, random);
  }

  /** The pool's live figures: connected sockets, requests running and queued. */
  get stats(): { connected: number; free: number; running: number; pending: number; size: number } {
    const { connected, free, running, pending, size } = this.#transport.stats;
    return { connected, free, running, pending, size };
  }

  /** One chat completion. */
  chat(request: ResolvedChatRequest, call: ProviderCallOptions): Promise<ChatCompletionResult> {
    return this.#unary(
      'chat',
      JSON.stringify(unaryBody(request)),
      request.model,
      call,
      parseCompletion,
    );
  }

  /** One embeddings call: `POST {baseUrl}/embeddings`. */
  embed(request: ResolvedEmbeddingRequest, call: ProviderCallOptions): Promise<EmbeddingResult> {
    return this.#unary('embeddings', JSON.stringify(request), request.model, call, parseEmbeddings);
  }

  /**
   * A unary call with retries: the answer is read whole (up to `maxResponseBytes`), parsed, and
   * given the call's metadata under `inference` (not enumerable, so JSON stays OpenAI's).
   */
  async #unary<T extends { model?: string; usage?: Partial<CompletionUsage> }>(
    endpoint: Endpoint,
    body: string,
    model: string,
    call: ProviderCallOptions,
    parse: (text: string) => T,
  ): Promise<T & { readonly inference: InferenceMetadata }> {
    const transport = this.#transport;
    const scope = transport.scope(call);
    let tracking: CallTracking | undefined;
    try {
      tracking = call.track?.((retryAfterMs) => scope.stop(retryAfterMs));
      const result = await withRetries(
        scope,
        transport.retryPolicy(call),
        {
          ...this.#retryHooks(endpoint, call),
          classify: (thrown, attempt) => transport.classify(thrown, scope, call.requestId, attempt),
        },
        async (attempt: Attempt) => {
          const response = await transport.send(endpoint, body, false, scope, call, attempt);
          const timeToHeadersMs = scope.elapsedMs();
          attempt.phase = 'body';
          const text = await readBody(
            response.body,
            attempt.scope,
            transport.options.maxResponseBytes,
          );
          const answer = parse(text);
          const inference: InferenceMetadata = {
            provider: this.name,
            model: answer.model ?? model,
            requestId: call.requestId,
            upstreamRequestId: attempt.upstreamRequestId,
            ...(attempt.rateLimit && { rateLimit: attempt.rateLimit }),
            attempts: attempt.number,
            timeToHeadersMs,
            durationMs: scope.elapsedMs(),
            usage: usageOf(answer.usage),
          };
          Object.defineProperty(answer, 'inference', { value: inference, enumerable: false });
          return answer as T & { readonly inference: InferenceMetadata };
        },
      );
      this.health.succeeded();
      return result;
    } catch (error) {
      this.health.failed(error);
      throw error;
    } finally {
      scope.dispose();
      tracking?.end();
    }
  }

  /**
   * Streams a completion (see `completionStream`): retried until the first chunk is in hand,
   * never after; ends at `[DONE]`; `call.onEnd` is told once, however it ends.
   */
  stream(
    request: ResolvedChatRequest,
    call: ProviderStreamOptions,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    return completionStream(
      this.#transport,
      this.health,
      request,
      call,
      this.#retryHooks('stream', call),
    );
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

  #retryHooks(operation: string, call: ProviderCallOptions): Omit<RetryHooks, 'classify'> {
    return {
      onRetry: (attempt, delayMs, error) => {
        call.onRetry?.(attempt, delayMs, error);
        this.logger.warn(
          `Retrying ${operation} on provider "${this.name}" in ${delayMs} ms after attempt ${attempt} failed: ${error.message} [request ${call.requestId}]`,
        );
      },
    };
  }
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
function usageOf(usage: Partial<CompletionUsage> | undefined): CompletionUsage | undefined {
  if (typeof usage?.prompt_tokens !== 'number') return undefined;
  if (typeof usage.completion_tokens === 'number') return usage as CompletionUsage;
  return {
    ...usage,
    completion_tokens: 0,
    total_tokens: usage.total_tokens ?? usage.prompt_tokens,
  } as CompletionUsage;
}
