import type { LoggerService } from '@nestjs/common';
import { Pool, type Dispatcher } from 'undici';
import type { InferenceError } from '../errors/index.js';
import type {
  CallTimeoutOptions,
  ResolvedProviderOptions,
  TimeoutOptions,
} from '../options/index.js';
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
import { buildTimedConnector } from './connector.js';
import { classifyFailure, statusFailure, type FailureContext } from './classify-failure.js';
import type { Clock } from './clock.js';
import type { AttemptScope } from './attempt-scope.js';
import { ProviderHealth } from './provider-health.js';
import { RetryPolicy } from './retry.policy.js';
import { SseChunkReader } from './sse-chunk.reader.js';
import { UpstreamFault } from './upstream-fault.js';
import { costOf, estimatedUsage, type CallCost } from '../telemetry/call-cost.js';

/** The most of an error body read to quote the provider's reason; the rest is discarded. */
const ERROR_BODY_LIMIT = 16 * 1024;
const USER_AGENT = 'nestjs-inference';
/** Headers a call may not override: the client owns them. */
const OWNED_HEADERS = new Set([
  'authorization',
  'content-type',
  'accept',
  'host',
  'content-length',
]);

export interface ProviderCallOptions {
  requestId: string;
  /** Aborts the call. The stream API passes its unsubscribe signal here too. */
  signals?: readonly (AbortSignal | undefined)[];
  timeouts?: CallTimeoutOptions;
  maxRetries?: number;
  headers?: Record<string, string>;
  /** Lets the application's lifecycle follow the call, and stop it at its drain deadline. */
  track?: TrackCall;
  /** Told before each retry: the attempt that failed, the backoff, and why. */
  onRetry?: (attempt: number, delayMs: number, error: InferenceError) => void;
}

export interface ProviderStreamOptions extends ProviderCallOptions {
  onEnd?: (summary: StreamSummary) => void;
}

/** A request with its model settled: what is sent upstream. */
export type ResolvedChatRequest = ChatCompletionRequest & { model: string };

/** The mutable state of one attempt, read by the failure classifier. */
interface Attempt {
  number: number;
  phase: 'headers' | 'body';
  scope: AttemptScope;
  upstreamRequestId?: string;
}

interface OpenStream {
  attempt: Attempt;
  response: Dispatcher.ResponseData;
  reader: SseChunkReader;
  first: ChatCompletionChunk | undefined;
  timeToHeadersMs: number;
}

/**
 * One upstream provider: a keep-alive connection pool to its origin, and chat completions over
 * it, unary and streamed, with timeouts, retries and cancellation. Response bodies are always
 * read to the end or destroyed, so no socket is left behind.
 */
export class ProviderClient {
  readonly name: string;
  /** Whether the provider looks usable, from recent calls and probes. */
  readonly health = new ProviderHealth();
  readonly #pool: Pool;
  readonly #path: string;
  /** Headers of every request (unary), and of streams. Built once: undici checks each per call. */
  readonly #headers: Readonly<Record<string, string>>;
  readonly #streamHeaders: Readonly<Record<string, string>>;
  readonly #probeHeaders: Readonly<Record<string, string>>;
  readonly #retry: RetryPolicy;
  readonly #secrets: readonly string[];

  constructor(
    readonly options: ResolvedProviderOptions,
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly logger: LoggerService,
  ) {
    this.name = options.name;
    this.#path = `${options.basePath}/chat/completions`;
    this.#pool = new Pool(options.origin, {
      connections: options.pool.connections,
      keepAliveTimeout: options.pool.keepAliveTimeoutMs,
      connect: buildTimedConnector(options.timeouts.connectMs, clock),
    });
    const apiKey = options.apiKey.reveal();
    this.#secrets = [apiKey];
    this.#headers = {
      ...options.headers,
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'user-agent': options.headers['user-agent'] ?? USER_AGENT,
    };
    this.#streamHeaders = { ...this.#headers, accept: 'text/event-stream' };
    const { 'content-type': _json, ...probeHeaders } = this.#headers;
    this.#probeHeaders = { ...probeHeaders, accept: 'application/json' };
    this.#retry = new RetryPolicy(options.retry, random);
  }

  /** The pool's live figures: connected sockets, requests running and queued. */
  get stats(): { connected: number; free: number; running: number; pending: number; size: number } {
    const { connected, free, running, pending, size } = this.#pool.stats;
    return { connected, free, running, pending, size };
  }

  async chat(
    request: ResolvedChatRequest,
    call: ProviderCallOptions,
  ): Promise<ChatCompletionResult> {
    const body = JSON.stringify(unaryBody(request));
    const scope = this.#scope(call);
    let tracking: CallTracking | undefined;
    try {
      tracking = call.track?.((retryAfterMs) => scope.stop(retryAfterMs));
      const result = await this.#withRetries(scope, call, 'chat', async (attempt) => {
        const response = await this.#send(body, this.#headers, scope, call, attempt);
        const timeToHeadersMs = scope.elapsedMs();
        attempt.phase = 'body';
        const text = await readText(response.body, attempt.scope);
        const completion = parseCompletion(text);
        const inference: InferenceMetadata = {
          provider: this.name,
          model: completion.model ?? request.model,
          requestId: call.requestId,
          upstreamRequestId: attempt.upstreamRequestId,
          attempts: attempt.number,
          timeToHeadersMs,
          durationMs: scope.elapsedMs(),
          usage: completion.usage,
          cost: completion.usage && this.#cost(request.model, completion.usage, false),
        };
        Object.defineProperty(completion, 'inference', { value: inference, enumerable: false });
        return completion as ChatCompletionResult;
      });
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
   * Streams a completion. Failures are retried until the first chunk is in hand; after that the
   * caller has content, so a failure ends the stream with a typed error and is never retried.
   */
  async *stream(
    request: ResolvedChatRequest,
    call: ProviderStreamOptions,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    const wantsUsage = request.stream_options?.include_usage === true;
    const body = JSON.stringify({
      ...request,
      stream: true,
      // Always ask for usage, so cost is known; the extra chunk is dropped if the caller did not ask.
      stream_options: { ...request.stream_options, include_usage: true },
    });
    const scope = this.#scope(call);
    const summary: StreamSummary = {
      provider: this.name,
      model: request.model,
      requestId: call.requestId,
      attempts: 0,
      durationMs: 0,
      chunks: 0,
      outcome: 'aborted',
    };
    let open: OpenStream | undefined;
    let tracking: CallTracking | undefined;
    try {
      tracking = call.track?.((retryAfterMs) => scope.stop(retryAfterMs));
      open = await this.#withRetries(scope, call, 'stream', async (attempt) => {
        summary.attempts = attempt.number;
        const response = await this.#send(body, this.#streamHeaders, scope, call, attempt);
        const timeToHeadersMs = scope.elapsedMs();
        attempt.phase = 'body';
        const reader = new SseChunkReader(response.body, attempt.scope);
        try {
          const first = await reader.read();
          return {
            attempt,
            response,
            reader,
            first,
            timeToHeadersMs,
          };
        } catch (error) {
          response.body.destroy();
          throw error;
        }
      });
      summary.timeToHeadersMs = open.timeToHeadersMs;
      summary.upstreamRequestId = open.attempt.upstreamRequestId;
      const { reader } = open;
      let chunk: ChatCompletionChunk | undefined | null = open.first;
      while (chunk !== undefined) {
        if (chunk.usage) summary.usage = chunk.usage;
        if (chunk.model) summary.model = chunk.model;
        const finish = chunk.choices[0]?.finish_reason;
        if (finish) summary.finishReason = finish;
        const out = wantsUsage ? chunk : withoutUsage(chunk);
        if (out) {
          if (summary.chunks === 0) {
            summary.timeToFirstChunkMs = scope.elapsedMs();
            tracking?.streaming();
          }
          summary.chunks++;
          yield out;
        }
        chunk = reader.take();
        while (chunk === null) {
          await reader.fill();
          chunk = reader.take();
        }
      }
      await reader.drain();
      summary.outcome = 'completed';
      this.health.succeeded();
    } catch (thrown) {
      // Failures before the stream opened are typed already; the rest are typed here, once.
      const error = open
        ? classifyFailure(thrown, this.#failureContext(scope, call, open.attempt))
        : (thrown as InferenceError);
      summary.outcome = error.phase === 'aborted' ? 'aborted' : 'failed';
      summary.error = error;
      this.health.failed(error);
      throw error;
    } finally {
      if (summary.outcome !== 'completed') {
        // An early return() by the caller lands here too: free the socket and tell the upstream.
        scope.cancel();
        open?.response.body.destroy();
      }
      scope.dispose();
      summary.cost = this.#streamCost(request, summary, open !== undefined);
      summary.durationMs = scope.elapsedMs();
      tracking?.end();
      call.onEnd?.(summary);
    }
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
      const response = await this.#pool.request({
        method: 'GET',
        path: `${this.options.basePath}/models`,
        headers: this.#probeHeaders,
        signal: attempt.scope,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const text = await readAtMost(response.body, ERROR_BODY_LIMIT).catch(() => '');
      if (response.statusCode >= 300) {
        throw statusFailure(
          response.statusCode,
          response.headers,
          text,
          this.clock.now(),
          this.#failureContext(scope, { requestId }, attempt),
        );
      }
      this.health.succeeded();
      return { latencyMs: this.clock.now() - startedAt };
    } catch (thrown) {
      const error = classifyFailure(thrown, this.#failureContext(scope, { requestId }, attempt));
      this.health.failed(error);
      throw error;
    } finally {
      scope.dispose();
    }
  }

  /** Waits for running requests, then closes every socket. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** Closes every socket now, failing whatever is still running. */
  async destroy(): Promise<void> {
    await this.#pool.destroy();
  }

  /** The cost of a call, when this provider has a price for the model it was sent. */
  #cost(model: string, usage: CompletionUsage, estimated: boolean): CallCost | undefined {
    const price = this.options.prices.get(model);
    return price && { usd: costOf(usage, price), estimated };
  }

  /**
   * A stream's cost, computed once as it ends: from the usage the provider reported, or, when a
   * stream was cut before its usage chunk (cancelled, failed mid-way), estimated from the prompt
   * and the chunks received. A stream that never opened was not billed.
   */
  #streamCost(
    request: ResolvedChatRequest,
    summary: StreamSummary,
    opened: boolean,
  ): CallCost | undefined {
    if (summary.usage) return this.#cost(request.model, summary.usage, false);
    if (!opened && summary.outcome === 'failed') return undefined;
    const usage = estimatedUsage(JSON.stringify(request.messages).length, summary.chunks);
    return this.#cost(request.model, usage, true);
  }

  #scope(call: ProviderCallOptions): CallScope {
    return new CallScope(this.clock, this.#timeouts(call), call.signals ?? []);
  }

  async #withRetries<T>(
    scope: CallScope,
    call: ProviderCallOptions,
    operation: string,
    run: (attempt: Attempt) => Promise<T>,
  ): Promise<T> {
    const policy =
      call.maxRetries === undefined
        ? this.#retry
        : new RetryPolicy({ ...this.options.retry, maxRetries: call.maxRetries }, this.random);
    for (let number = 1; ; number++) {
      const attempt: Attempt = {
        number,
        phase: 'headers',
        scope: scope.startAttempt(),
      };
      let error: InferenceError;
      try {
        return await run(attempt);
      } catch (thrown) {
        error = classifyFailure(thrown, this.#failureContext(scope, call, attempt));
        attempt.scope.settle();
      }
      // A stopped call is never retried here, even when its error invites a retry elsewhere.
      const delay = scope.abortCause
        ? undefined
        : policy.nextDelay(error, number, scope.remainingMs());
      if (delay === undefined) throw error;
      call.onRetry?.(number, delay, error);
      this.logger.warn(
        `Retrying ${operation} on provider "${this.name}" in ${delay} ms after attempt ${number} failed: ${error.message} [request ${call.requestId}]`,
      );
      try {
        await scope.pause(delay);
      } catch (thrown) {
        throw classifyFailure(thrown, this.#failureContext(scope, call, attempt));
      }
    }
  }

  /** Sends one attempt and returns the response once its status is a success. */
  async #send(
    body: string,
    headers: Readonly<Record<string, string>>,
    scope: CallScope,
    call: ProviderCallOptions,
    attempt: Attempt,
  ): Promise<Dispatcher.ResponseData> {
    attempt.scope.armHeaders();
    const response = await this.#pool
      .request({
        method: 'POST',
        path: this.#path,
        headers: call.headers
          ? { ...callHeaders(call.headers), ...headers, 'x-request-id': call.requestId }
          : { ...headers, 'x-request-id': call.requestId },
        body,
        signal: attempt.scope,
        // The attempt's own timers enforce these, precisely; undici's tick every 500 ms.
        headersTimeout: 0,
        bodyTimeout: 0,
      })
      .finally(() => attempt.scope.disarm());
    const upstreamId = response.headers['x-request-id'];
    attempt.upstreamRequestId = Array.isArray(upstreamId) ? upstreamId[0] : upstreamId;
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    const text = await readAtMost(response.body, ERROR_BODY_LIMIT).catch(() => '');
    throw statusFailure(
      response.statusCode,
      response.headers,
      text,
      this.clock.now(),
      this.#failureContext(scope, call, attempt),
    );
  }

  #timeouts(call: ProviderCallOptions): TimeoutOptions {
    return call.timeouts ? { ...this.options.timeouts, ...call.timeouts } : this.options.timeouts;
  }

  #failureContext(scope: CallScope, call: ProviderCallOptions, attempt: Attempt): FailureContext {
    return {
      provider: this.name,
      requestId: call.requestId,
      scope,
      timedOut: attempt.scope.timedOut,
      phase: attempt.phase,
      attempts: attempt.number,
      upstreamRequestId: attempt.upstreamRequestId,
      secrets: this.#secrets,
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UpstreamFault('protocol', 'the response body is not valid JSON');
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !Array.isArray((parsed as ChatCompletion).choices)
  ) {
    throw new UpstreamFault('protocol', 'the response is not a chat completion (no choices array)');
  }
  return parsed as ChatCompletion;
}

/**
 * The chunk as the caller would have seen it without `include_usage`; undefined to drop it. The
 * chunk was parsed for this call alone, so it is changed in place.
 */
function withoutUsage(chunk: ChatCompletionChunk): ChatCompletionChunk | undefined {
  if (!('usage' in chunk)) return chunk;
  if (chunk.choices.length === 0) return undefined;
  delete chunk.usage;
  return chunk;
}

function callHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  if (!headers) return {};
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!OWNED_HEADERS.has(name.toLowerCase())) result[name.toLowerCase()] = value;
  }
  return result;
}

/**
 * Reads a whole body as text. Each delivery starts a new wait, so the upstream has `idleMs`
 * between two bytes, not for the whole body.
 */
function readText(body: Dispatcher.ResponseData['body'], attempt: AttemptScope): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    attempt.waiting();
    body.on('data', (part: Buffer) => {
      parts.push(part);
      attempt.waiting(); // each delivery starts a new wait
    });
    body.once('end', () => {
      attempt.received();
      resolve(
        parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8'),
      );
    });
    body.once('error', (error) => {
      attempt.received();
      reject(error);
    });
  });
}

/** Reads up to `limit` bytes of a body as text, then discards the rest. */
async function readAtMost(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body) {
    parts.push(part as Buffer);
    size += (part as Buffer).length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(parts).subarray(0, limit).toString('utf8');
}
