import { Injectable } from '@nestjs/common';
import { InferenceRouter, type CallRecord, type RouteDecision } from './canary/inference.router.js';
import { ModelCatalog } from './model/model-catalog.js';
import type { CallTelemetry } from './telemetry/call-telemetry.js';
import { InferenceTelemetry } from './telemetry/inference.telemetry.js';
import type { ModelSelection } from './model/model-selection.js';
import type {
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatCompletionResult,
  StreamSummary,
} from './client/chat.types.js';
import { InferenceStream } from './client/inference.stream.js';
import type { ProviderClient, ResolvedChatRequest } from './client/provider.client.js';
import { ProviderRegistry } from './client/provider.registry.js';
import { InflightRegistry } from './lifecycle/inflight.registry.js';
import { currentRequestContext } from './context/request-context.js';
import { requestIdFrom } from './context/request-id.js';
import {
  faultOf,
  InferenceAbortedError,
  InferenceError,
  InferenceRequestError,
} from './errors/index.js';
import { CALL_TIMEOUT_FIELDS, type CallTimeoutOptions } from './options/index.js';

export interface ChatCallOptions {
  /** Send this call to the named provider: it then bypasses the router (and any canary rollout). */
  provider?: string;
  /** The key that keeps this caller on one side of a rollout (by default read from the request's headers). */
  stickyKey?: string;
  /** Aborts the call. */
  signal?: AbortSignal;
  /** Overrides the request id (by default the incoming `x-request-id`, or a generated one). */
  requestId?: string;
  /** Overrides the provider's headers, idle and total budgets for this call (`connectMs` is per provider). */
  timeouts?: CallTimeoutOptions;
  /** Overrides the provider's `retry.maxRetries` for this call. */
  maxRetries?: number;
  /** Extra headers for this call (the client's own, such as `authorization`, cannot be replaced). */
  headers?: Record<string, string>;
}

export interface StreamCallOptions extends ChatCallOptions {
  /** Called once when the stream ends, however it ends, with its outcome, usage and timings. */
  onEnd?: (summary: StreamSummary) => void;
}

/**
 * Chat completions against the configured OpenAI-compatible providers, with retries, timeouts,
 * typed errors and cancellation. A call that names no provider goes where the router sends it
 * (`CanaryRouter`: the stable or the canary side of a rollout); a canary call that fails before
 * any byte reached the caller is retried once on the stable provider. Every call is tracked in
 * flight: while the app drains, a call made by an in-flight request goes ahead, and any other
 * call fails with a retryable `InferenceShutdownError`.
 */
@Injectable()
export class InferenceService {
  constructor(
    private readonly providers: ProviderRegistry,
    private readonly inflight: InflightRegistry,
    private readonly router: InferenceRouter,
    private readonly catalog: ModelCatalog,
    private readonly telemetry: InferenceTelemetry,
  ) {}

  /** One completion. Resolves with the provider's answer; `result.inference` holds the metadata. */
  async chat(
    request: ChatCompletionRequest,
    options: ChatCallOptions = {},
  ): Promise<ChatCompletionResult> {
    const requestId = this.#requestId(options);
    options = withRouteDefaults(options);
    const decision = this.#route(requestId, options, request);
    try {
      return await this.#chatVia(decision, request, requestId, options);
    } catch (error) {
      if (!canFallBack(decision, error)) throw error;
      const result = await this.#chatVia(fallbackOf(decision, error), request, requestId, options);
      result.inference.fallbackFrom = decision.provider;
      return result;
    }
  }

  /**
   * A streamed completion, as an Observable and an async iterable of chunks. Nothing is sent
   * until it is subscribed or iterated; bad input is reported at once, when `stream()` is called.
   * A canary stream that fails before its first chunk continues on the stable provider; after a
   * chunk reached the caller it never does, so no token is sent twice.
   */
  stream(request: ChatCompletionRequest, options: StreamCallOptions = {}): InferenceStream {
    const requestId = this.#requestId(options);
    options = withRouteDefaults(options);
    const decision = this.#route(requestId, options, request);
    const client = this.providers.get(decision.provider, requestId);
    const resolved = this.#resolve(request, client, requestId, options);
    return new InferenceStream((signal) =>
      this.#routedStream(decision, client, resolved, request, requestId, options, signal),
    );
  }

  /** One call on the side `decision` names: recorded for the router and in telemetry. */
  async #chatVia(
    decision: RouteDecision,
    request: ChatCompletionRequest,
    requestId: string,
    options: ChatCallOptions,
  ): Promise<ChatCompletionResult> {
    const client = this.providers.get(decision.provider, requestId);
    const resolved = this.#resolve(request, client, requestId, options);
    const telemetry = this.#startTelemetry(client, resolved, decision, false);
    const startedAt = performance.now();
    try {
      const result = await client.chat(resolved, {
        ...options,
        requestId,
        signals: [options.signal],
        track: this.inflight.trackCall(requestId, client.name, resolved.model),
        onRetry: (attempt, delayMs, error) => telemetry.retry(attempt, delayMs, error),
      });
      const { inference } = result;
      if (decision.side) inference.side = decision.side;
      this.router.record(decision, undefined, inference.durationMs, inference.cost?.usd, {
        outputTokens: inference.usage?.completion_tokens,
        attempts: inference.attempts,
      });
      telemetry.end({
        durationMs: inference.durationMs,
        usage: inference.usage,
        cost: inference.cost,
        responseModel: result.model,
        responseId: result.id,
        finishReason: result.choices[0]?.finish_reason,
      });
      return result;
    } catch (error) {
      const durationMs = performance.now() - startedAt;
      excuseCallerDeadline(client, error, options);
      this.router.record(decision, error, durationMs, undefined, {
        attempts: (error as InferenceError).attempts,
        callerBudgets: options.timeouts,
      });
      if (canFallBack(decision, error)) telemetry.fallback(decision.fallback!, error);
      telemetry.end({ error, durationMs });
      throw error;
    }
  }

  async *#routedStream(
    decision: RouteDecision,
    client: ProviderClient,
    resolved: ResolvedChatRequest,
    request: ChatCompletionRequest,
    requestId: string,
    options: StreamCallOptions,
    signal: AbortSignal,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    let fellBack = false;
    let failure: unknown;
    try {
      yield* this.#streamVia(decision, client, resolved, requestId, options, signal, () => {
        fellBack = true; // the caller's onEnd waits for the fallback's end
      });
      return;
    } catch (error) {
      if (!fellBack) throw error;
      failure = error;
    }
    const fallback = fallbackOf(decision, failure);
    const stable = this.providers.get(fallback.provider, requestId);
    yield* this.#streamVia(
      fallback,
      stable,
      this.#resolve(request, stable, requestId, options),
      requestId,
      {
        ...options,
        onEnd: (summary) => options.onEnd?.({ ...summary, fallbackFrom: client.name }),
      },
      signal,
    );
  }

  /**
   * One stream on the side `decision` names. `onFallback` is told, instead of the caller's
   * `onEnd`, when the stream failed before its first chunk and will continue elsewhere.
   */
  #streamVia(
    decision: RouteDecision,
    client: ProviderClient,
    resolved: ResolvedChatRequest,
    requestId: string,
    options: StreamCallOptions,
    signal: AbortSignal,
    onFallback?: () => void,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    const telemetry = this.#startTelemetry(client, resolved, decision, true);
    return client.stream(resolved, {
      ...options,
      requestId,
      signals: [options.signal, signal],
      track: this.inflight.trackCall(requestId, client.name, resolved.model),
      onRetry: (attempt, delayMs, error) => telemetry.retry(attempt, delayMs, error),
      onEnd: (summary) => {
        // One the caller ended is not judged (its cost still counts).
        const error = summary.outcome === 'aborted' ? (summary.error ?? CANCELLED) : summary.error;
        if (error !== undefined) excuseCallerDeadline(client, error, options);
        this.router.record(decision, error, latencyOf(summary), summary.cost?.usd, {
          streamed: true,
          outputTokens: summary.usage?.completion_tokens,
          attempts: summary.attempts,
          callerBudgets: options.timeouts,
        } satisfies CallRecord);
        if (decision.side) summary.side = decision.side;
        const fallsBack =
          onFallback !== undefined &&
          summary.chunks === 0 &&
          summary.outcome === 'failed' &&
          canFallBack(decision, summary.error);
        if (fallsBack) telemetry.fallback(decision.fallback!, summary.error);
        telemetry.end({
          error: summary.outcome === 'completed' ? undefined : error,
          durationMs: summary.durationMs,
          usage: summary.usage,
          cost: summary.cost,
          responseModel: summary.model,
          finishReason: summary.finishReason,
          timeToFirstChunkMs: summary.timeToFirstChunkMs,
          chunks: summary.chunks,
        });
        if (fallsBack) onFallback();
        else options.onEnd?.(summary);
      },
    });
  }

  #startTelemetry(
    client: ProviderClient,
    resolved: ResolvedChatRequest,
    decision: RouteDecision,
    streaming: boolean,
  ): CallTelemetry {
    return this.telemetry.start({
      provider: client.name,
      model: resolved.model,
      origin: client.options.origin,
      side: decision.side,
      streaming,
      maxTokens: resolved.max_tokens ?? resolved.max_completion_tokens,
      temperature: resolved.temperature,
    });
  }

  #route(
    requestId: string,
    options: ChatCallOptions,
    request: ChatCompletionRequest,
  ): RouteDecision {
    if (options.provider !== undefined) return { provider: options.provider };
    const context = currentRequestContext();
    return this.router.route({
      requestId,
      stickyKey: options.stickyKey,
      headers: context?.headers,
      model: request?.model ?? context?.model?.model,
    });
  }

  /** The request as sent to `client`: validated, with the route's model and defaults filled in. */
  #resolve(
    request: ChatCompletionRequest,
    client: ProviderClient,
    requestId: string,
    options: ChatCallOptions,
  ): ResolvedChatRequest {
    return resolveRequest(
      request,
      client,
      requestId,
      options,
      this.catalog,
      currentRequestContext()?.model,
    );
  }

  #requestId(options: ChatCallOptions): string {
    return options.requestId ?? currentRequestContext()?.requestId ?? requestIdFrom(undefined);
  }
}

/** Where a failed canary call goes: the stable provider, in the same phase. */
function fallbackOf(decision: RouteDecision, error: unknown): RouteDecision {
  return {
    provider: decision.fallback!,
    side: 'stable',
    phaseKey: decision.phaseKey,
    fallbackFrom: { provider: decision.provider, error },
  };
}

/** A deadline the caller chose ran out: that says nothing about the provider's health. */
function excuseCallerDeadline(client: ProviderClient, error: unknown, options: ChatCallOptions) {
  if (options.timeouts && faultOf(error, options.timeouts) !== faultOf(error)) {
    client.health.excuse(error);
  }
}

/** A stream the caller stopped by returning early: not judged, like any cancelled call. */
const CANCELLED = new InferenceAbortedError('The caller stopped reading the stream.', {
  provider: 'caller',
  requestId: 'caller',
  phase: 'aborted',
  retryable: false,
});

/** The route's pinned provider and timeouts, unless the call gives its own. */
function withRouteDefaults<T extends ChatCallOptions>(options: T): T {
  const selection = currentRequestContext()?.model;
  if (!selection || (selection.provider === undefined && selection.timeouts === undefined))
    return options;
  return {
    ...options,
    provider: options.provider ?? selection.provider,
    timeouts: options.timeouts ?? selection.timeouts,
  };
}

/**
 * A failed canary call goes to the stable provider when the provider failed, or refused the
 * request with a 4xx that stable may accept; not when the caller or the app stopped it, nor when
 * the request was invalid before it was sent.
 */
function canFallBack(decision: RouteDecision, error: unknown): boolean {
  if (decision.fallback === undefined) return false;
  const fault = faultOf(error);
  return (
    fault === 'provider' ||
    (fault === 'client' && error instanceof InferenceError && error.status !== undefined)
  );
}

/** A stream's latency for the judge: until the first chunk, or the whole call without one. */
function latencyOf(summary: StreamSummary): number {
  return summary.timeToFirstChunkMs ?? summary.durationMs;
}

const CALL_TIMEOUTS: ReadonlySet<string> = new Set(CALL_TIMEOUT_FIELDS);

function resolveRequest(
  request: ChatCompletionRequest,
  client: ProviderClient,
  requestId: string,
  options: ChatCallOptions,
  catalog: ModelCatalog,
  selection: ModelSelection | undefined,
): ResolvedChatRequest {
  const invalid = (reason: string) =>
    new InferenceRequestError(reason, {
      provider: client.name,
      requestId,
      phase: 'request',
      retryable: false,
    });
  if (typeof request !== 'object' || request === null) {
    throw invalid('The request must be an object with a messages array.');
  }
  if (!Array.isArray(request.messages) || request.messages.length === 0) {
    throw invalid('The request needs a non-empty messages array.');
  }
  const named = request.model ?? selection?.model ?? client.options.defaultModel;
  if (typeof named !== 'string' || named.trim() === '') {
    throw invalid(
      `No model was named, and provider "${client.name}" has no defaultModel. Name one in the request or set providers.${client.name}.defaultModel.`,
    );
  }
  const model = catalog.concrete(named, client.name);
  if (model === undefined) throw invalid(catalog.missing(named, client.name));
  for (const [field, value] of options.timeouts ? Object.entries(options.timeouts) : []) {
    if (!CALL_TIMEOUTS.has(field)) {
      throw invalid(
        `Call option timeouts.${field} is not supported: only ${CALL_TIMEOUT_FIELDS.join(', ')} can be set per call (connectMs is set per provider).`,
      );
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw invalid(`Call option timeouts.${field} must be a positive number of milliseconds.`);
    }
  }
  if (
    options.maxRetries !== undefined &&
    (!Number.isInteger(options.maxRetries) || options.maxRetries < 0)
  ) {
    throw invalid('Call option maxRetries must be an integer ≥ 0.');
  }
  const temperature = request.temperature ?? selection?.temperature;
  const maxTokens = request.max_tokens ?? request.max_completion_tokens ?? selection?.maxTokens;
  const addsDefaults =
    (temperature !== undefined && request.temperature === undefined) ||
    (maxTokens !== undefined &&
      request.max_tokens === undefined &&
      request.max_completion_tokens === undefined);
  // A request that names its model is sent as it is: a copy costs about a microsecond to serialise.
  if (request.model === model && !addsDefaults) return request as ResolvedChatRequest;
  const resolved: ResolvedChatRequest = { ...request, model };
  if (request.temperature === undefined && temperature !== undefined)
    resolved.temperature = temperature;
  if (
    request.max_tokens === undefined &&
    request.max_completion_tokens === undefined &&
    maxTokens !== undefined
  ) {
    resolved.max_tokens = maxTokens;
  }
  return resolved;
}
