import { Injectable, Logger } from '@nestjs/common';
import { InferenceRouter, type CallRecord, type RouteDecision } from './canary/inference.router.js';
import { ModelCatalog } from './model/model-catalog.js';
import type { CallTelemetry } from './telemetry/call-telemetry.js';
import { InferenceTelemetry } from './telemetry/inference.telemetry.js';
import { logCallFailure, type FailedCall } from './telemetry/call-failure.log.js';
import { INFERENCE_LOGGER_CONTEXT } from './inference.constants.js';
import type { ModelSelection } from './model/model-selection.js';
import type {
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatCompletionResult,
  StreamSummary,
} from './client/chat.types.js';
import { InferenceStream } from './client/inference.stream.js';
import type {
  ProviderCallOptions,
  ProviderClient,
  ResolvedChatRequest,
  ResolvedEmbeddingRequest,
} from './client/provider.client.js';
import type { EmbeddingRequest, EmbeddingResult } from './client/embedding.types.js';
import { ProviderRegistry } from './client/provider.registry.js';
import { InflightRegistry } from './lifecycle/inflight.registry.js';
import type { InflightRequest } from './lifecycle/inflight-request.js';
import { cancelSourceOf, currentRequestContext } from './context/request-context.js';
import type { CancelSource } from './client/cancel-source.js';
import { requestIdFrom } from './lifecycle/request-id.js';
import {
  faultOf,
  InferenceAbortedError,
  InferenceError,
  InferenceRequestError,
} from './errors/index.js';
import { CALL_TIMEOUT_FIELDS, type CallTimeoutOptions } from './options/index.js';
import { headerProblem } from './options/header-rules.js';
import { costOfCall } from './pricing/call-cost.js';
import { AnswerCollector, answerOf, qualityOf, type Answer } from './canary/answer-quality.js';
import { ShadowMirror } from './canary/shadow.mirror.js';

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
  /**
   * `false`: never mirror this call to the canary in a shadow phase (a request with side
   * effects, or private data). Requests that offer tools are not mirrored by default either.
   */
  shadow?: boolean;
}

export interface EmbedCallOptions extends ChatCallOptions {
  /**
   * `stable` (the default): the rollout's stable provider, or the default one. `rollout`: split
   * by sticky key like chat calls, for an A/B of two embedding models whose vectors you keep
   * apart. Vectors of two models cannot share an index, so only ask for it knowingly.
   */
  routing?: 'stable' | 'rollout';
}

export interface StreamCallOptions extends ChatCallOptions {
  /** Called once when the stream ends, however it ends, with its outcome, usage and timings. */
  onEnd?: (summary: StreamSummary) => void;
}

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
  readonly #logger = new Logger(INFERENCE_LOGGER_CONTEXT);

  constructor(
    private readonly providers: ProviderRegistry,
    private readonly inflight: InflightRegistry,
    private readonly router: InferenceRouter,
    private readonly catalog: ModelCatalog,
    private readonly telemetry: InferenceTelemetry,
    private readonly shadow: ShadowMirror,
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
    const requestId = this.#requestId(options);
    options = withRouteDefaults(options);
    const decision = this.#route(requestId, options, request.model);
    checkCallOptions(options, requestId, decision.provider);
    const budget = this.#budget(decision, requestId, options);
    let fellBack = false;
    let failure: unknown;
    try {
      return await this.#chatVia(decision, request, requestId, options, budget.deadline, () => {
        fellBack = this.#leavesRoomFor(budget);
        return fellBack;
      });
    } catch (error) {
      if (!fellBack) throw error;
      failure = error;
    }
    const fallback = fallbackOf(decision, failure);
    const result = await this.#chatVia(fallback, request, requestId, options, budget.deadline);
    result.inference.fallbackFrom = decision.provider;
    return result;
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
    const requestId = this.#requestId(options);
    options = withRouteDefaults(options);
    const decision = this.#route(requestId, options, request.model);
    checkCallOptions(options, requestId, decision.provider);
    const client = this.providers.get(decision.provider, requestId);
    const resolved = this.#resolve(request, client, requestId);
    // Read now: the stream may be iterated outside the request's context.
    const context = currentRequestContext();
    // A generator: nothing starts (span, budget, upstream call) before the first `next()`.
    return new InferenceStream((signal) =>
      this.#routedStream(decision, client, resolved, request, requestId, options, {
        signals: [options.signal, signal, cancelSourceOf(context)],
        request: context?.inflight,
      }),
    );
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
    const requestId = this.#requestId(options);
    options = withRouteDefaults(options);
    const decision: RouteDecision =
      options.provider !== undefined
        ? { provider: options.provider }
        : options.routing === 'rollout'
          ? this.#route(requestId, options, request.model)
          : { provider: this.providers.embeddingsProvider };
    checkCallOptions(options, requestId, decision.provider);
    const client = this.providers.get(decision.provider, requestId);
    const resolved = resolveEmbeddingRequest(request, client, requestId, this.catalog);
    const telemetry = this.telemetry.start({
      operation: 'embeddings',
      provider: client.name,
      model: resolved.model,
      origin: client.options.origin,
      side: decision.side,
      streaming: false,
    });
    const startedAt = performance.now();
    let result: EmbeddingResult;
    try {
      result = await client.embed(resolved, {
        ...options,
        requestId,
        ...this.#origin(requestId, client, resolved.model, [options.signal]),
        onRetry: (attempt, delayMs, error) => telemetry.retry(attempt, delayMs, error),
      });
    } catch (error) {
      const durationMs = performance.now() - startedAt;
      telemetry.end({ error, durationMs });
      logCallFailure(
        this.#logger,
        {
          operation: 'embeddings',
          provider: client.name,
          model: resolved.model,
          requestId,
          durationMs,
        },
        error,
      );
      throw error;
    }
    const { inference } = result;
    if (decision.side) inference.side = decision.side;
    inference.cost = costOfCall(client.options.prices, resolved.model, inference.usage);
    // Not `#ended`: embeddings say nothing about a chat rollout, so the router is not told.
    telemetry.end({
      durationMs: inference.durationMs,
      usage: inference.usage,
      cost: inference.cost,
      responseModel: result.model,
    });
    return result;
  }

  /**
   * One call on the side `decision` names. When it fails in a way that may fall back,
   * `fallsBack` is asked whether the call continues on the stable provider.
   */
  async #chatVia(
    decision: RouteDecision,
    request: ChatCompletionRequest,
    requestId: string,
    options: ChatCallOptions,
    deadline: number,
    fallsBack?: () => boolean,
  ): Promise<ChatCompletionResult> {
    const client = this.providers.get(decision.provider, requestId);
    const resolved = this.#resolve(request, client, requestId);
    const telemetry = this.#startTelemetry(client, resolved, decision, false);
    const startedAt = performance.now();
    let result: ChatCompletionResult;
    try {
      result = await client.chat(resolved, {
        ...options,
        requestId,
        deadline,
        ...this.#origin(requestId, client, resolved.model, [options.signal]),
        onRetry: (attempt, delayMs, error) => telemetry.retry(attempt, delayMs, error),
      });
    } catch (error) {
      const durationMs = performance.now() - startedAt;
      excuseCallerDeadline(client, error, options);
      const continues = fallsBack !== undefined && canFallBack(decision, error) && fallsBack();
      if (continues) telemetry.fallback(decision.fallback!, error);
      this.#ended(
        decision,
        telemetry,
        { error, durationMs, latencyMs: durationMs },
        { attempts: (error as InferenceError).attempts, callerBudgets: options.timeouts },
        {
          operation: 'chat',
          provider: client.name,
          model: resolved.model,
          requestId,
          fallback: continues ? decision.fallback : undefined,
        },
      );
      throw error;
    }
    const { inference } = result;
    if (decision.side) inference.side = decision.side;
    inference.cost = costOfCall(client.options.prices, resolved.model, inference.usage);
    // Quality is read only from calls a rollout routed: they are the ones judged.
    const answer = decision.side ? answerOf(result) : undefined;
    this.#ended(
      decision,
      telemetry,
      {
        durationMs: inference.durationMs,
        latencyMs: inference.durationMs,
        usage: inference.usage,
        cost: inference.cost,
        responseModel: result.model,
        responseId: result.id,
        finishReason: result.choices[0]?.finish_reason,
      },
      {
        outputTokens: inference.usage?.completion_tokens,
        attempts: inference.attempts,
        ...(answer && { quality: qualityOf(resolved, answer), requestId }),
      },
      { operation: 'chat', provider: client.name, model: resolved.model, requestId },
    );
    if (decision.shadow && answer) {
      this.#mirror(decision, resolved, requestId, options, answer, false, inference.durationMs, {
        totalMs: inference.durationMs,
        tokens: inference.usage?.completion_tokens,
        usd: inference.cost?.usd ?? 0,
      });
    }
    return result;
  }

  async *#routedStream(
    decision: RouteDecision,
    client: ProviderClient,
    resolved: ResolvedChatRequest,
    request: ChatCompletionRequest,
    requestId: string,
    options: StreamCallOptions,
    origin: CallOrigin,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    const budget = this.#budget(decision, requestId, options);
    let fellBack = false;
    let failure: unknown;
    try {
      yield* this.#streamVia(
        decision,
        client,
        resolved,
        requestId,
        options,
        origin,
        budget.deadline,
        () => {
          // Told instead of the caller's onEnd; the caller's waits for the fallback's end.
          fellBack = this.#leavesRoomFor(budget);
          return fellBack;
        },
      );
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
      this.#resolve(request, stable, requestId),
      requestId,
      {
        ...options,
        onEnd: (summary) => options.onEnd?.({ ...summary, fallbackFrom: client.name }),
      },
      origin,
      budget.deadline,
    );
  }

  /**
   * One stream on the side `decision` names. When it fails before its first chunk in a way that
   * may fall back, `fallsBack` is asked whether the call continues elsewhere; if it does, the
   * caller's `onEnd` is left to the fallback.
   */
  #streamVia(
    decision: RouteDecision,
    client: ProviderClient,
    resolved: ResolvedChatRequest,
    requestId: string,
    options: StreamCallOptions,
    origin: CallOrigin,
    deadline: number,
    fallsBack?: () => boolean,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    const telemetry = this.#startTelemetry(client, resolved, decision, true);
    // A stream a rollout routed is put back together as it passes, for its quality signals.
    const collector = decision.side ? new AnswerCollector() : undefined;
    const stream = client.stream(resolved, {
      ...options,
      requestId,
      deadline,
      signals: origin.signals,
      track: this.inflight.trackCall(requestId, client.name, resolved.model, origin.request),
      onRetry: (attempt, delayMs, error) => telemetry.retry(attempt, delayMs, error),
      onChunk: collector && ((chunk) => collector.add(chunk)),
      onEnd: (summary) => {
        if (decision.side) summary.side = decision.side;
        // A stream that never opened was not billed; one cut short is estimated.
        const opened = summary.timeToHeadersMs !== undefined;
        summary.cost = costOfCall(
          client.options.prices,
          resolved.model,
          summary.usage,
          opened || summary.outcome !== 'failed'
            ? { promptCharacters: JSON.stringify(resolved.messages).length, chunks: summary.chunks }
            : undefined,
        );
        // One the caller ended is not judged (its cost still counts).
        const error = summary.outcome === 'aborted' ? (summary.error ?? CANCELLED) : summary.error;
        if (error !== undefined) excuseCallerDeadline(client, error, options);
        const continues =
          fallsBack !== undefined &&
          summary.chunks === 0 &&
          summary.outcome === 'failed' &&
          canFallBack(decision, summary.error) &&
          fallsBack();
        if (continues) telemetry.fallback(decision.fallback!, summary.error);
        const answer =
          collector && summary.outcome === 'completed'
            ? collector.answer(summary.finishReason)
            : undefined;
        this.#ended(
          decision,
          telemetry,
          {
            error: summary.outcome === 'completed' ? undefined : error,
            durationMs: summary.durationMs,
            // A stream's latency for the judge: until the first chunk, or the whole call.
            latencyMs: summary.timeToFirstChunkMs ?? summary.durationMs,
            usage: summary.usage,
            cost: summary.cost,
            responseModel: summary.model,
            finishReason: summary.finishReason,
            timeToFirstChunkMs: summary.timeToFirstChunkMs,
            chunks: summary.chunks,
          },
          {
            streamed: true,
            outputTokens: summary.usage?.completion_tokens,
            attempts: summary.attempts,
            callerBudgets: options.timeouts,
            ...(answer && { quality: qualityOf(resolved, answer), requestId }),
          },
          {
            operation: 'stream',
            provider: client.name,
            model: resolved.model,
            requestId,
            fallback: continues ? decision.fallback : undefined,
          },
        );
        if (!continues) options.onEnd?.(summary);
        if (decision.shadow && answer) {
          this.#mirror(
            decision,
            resolved,
            requestId,
            options,
            answer,
            true,
            summary.timeToFirstChunkMs ?? summary.durationMs,
            {
              totalMs: summary.durationMs,
              tokens: summary.usage?.completion_tokens,
              usd: summary.cost?.usd ?? 0,
            },
          );
        }
      },
    });
    return stream;
  }

  /** Hands a served stable call of the shadow cohort to the mirror (which returns at once). */
  #mirror(
    decision: RouteDecision,
    request: ResolvedChatRequest,
    requestId: string,
    options: ChatCallOptions,
    served: Answer,
    streamed: boolean,
    latencyMs: number,
    facts: { totalMs: number; tokens?: number; usd: number },
  ): void {
    this.shadow.mirror({
      phaseKey: decision.phaseKey!,
      requestId,
      request,
      canaryModel: decision.shadow!,
      streamed,
      served,
      servedLatencyMs: latencyMs,
      servedTotalMs: facts.totalMs,
      servedTokens: facts.tokens,
      servedUsd: facts.usd,
      excluded: options.shadow === false,
    });
  }

  /**
   * What ties a unary call to the HTTP request being handled, read when the call starts: its
   * signal (a call nobody will read is aborted with its client) and its in-flight entry (the call
   * belongs to it, so it may run while the app drains).
   */
  #origin(
    requestId: string,
    client: ProviderClient,
    model: string,
    signals: (AbortSignal | undefined)[],
  ): Pick<ProviderCallOptions, 'signals' | 'track'> {
    const context = currentRequestContext();
    return {
      signals: [...signals, cancelSourceOf(context)],
      track: this.inflight.trackCall(requestId, client.name, model, context?.inflight),
    };
  }

  /**
   * Where every chat call's end is recorded, unary or streamed: for the router, in telemetry, and
   * in the log when it failed.
   */
  #ended(
    decision: RouteDecision,
    telemetry: CallTelemetry,
    end: CallEnd,
    facts: CallRecord,
    call: Omit<FailedCall, 'durationMs' | 'attempts'>,
  ): void {
    this.router.record(decision, end.error, end.latencyMs, end.cost?.usd, facts);
    telemetry.end(end);
    if (end.error !== undefined) {
      const attempts = facts.attempts;
      logCallFailure(this.#logger, { ...call, durationMs: end.durationMs, attempts }, end.error);
    }
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

  /** A call's one total budget, fallback included: the call's `totalMs`, else its first provider's. */
  #budget(decision: RouteDecision, requestId: string, options: ChatCallOptions): CallBudget {
    const totalMs =
      options.timeouts?.totalMs ??
      this.providers.get(decision.provider, requestId).options.timeouts.totalMs;
    return { totalMs, deadline: this.providers.clock.now() + totalMs };
  }

  /** Whether enough of the budget is left for a fallback to be worth starting. */
  #leavesRoomFor(budget: CallBudget): boolean {
    return budget.deadline - this.providers.clock.now() >= budget.totalMs * FALLBACK_SHARE;
  }

  /** Where a call goes; `model` is the one it names, for the rollout's model equivalence. */
  #route(requestId: string, options: ChatCallOptions, model: string | undefined): RouteDecision {
    if (options.provider !== undefined) return { provider: options.provider };
    const context = currentRequestContext();
    try {
      return this.router.route({
        requestId,
        stickyKey: options.stickyKey,
        headers: context?.headers,
        model: model ?? context?.model?.model,
      });
    } catch (error) {
      // The router runs the application's sticky-key function: its failure is the caller's.
      if (error instanceof InferenceError) throw error;
      throw new InferenceRequestError(
        `The call could not be routed: ${error instanceof Error ? error.message : String(error)}`,
        { provider: 'router', requestId, phase: 'request', retryable: false, cause: error },
      );
    }
  }

  /** The request as sent to `client`: validated, with the route's model and defaults filled in. */
  #resolve(
    request: ChatCompletionRequest,
    client: ProviderClient,
    requestId: string,
  ): ResolvedChatRequest {
    return resolveRequest(request, client, requestId, this.catalog, currentRequestContext()?.model);
  }

  #requestId(options: ChatCallOptions): string {
    return options.requestId ?? currentRequestContext()?.requestId ?? requestIdFrom(undefined);
  }
}

/** A stream's ties to the HTTP request it was made for, read when `stream()` was called. */
interface CallOrigin {
  signals: readonly (CancelSource | undefined)[];
  request: InflightRequest | undefined;
}

/** A call's total budget and the deadline it sets, shared by its fallback. */
interface CallBudget {
  totalMs: number;
  deadline: number;
}

/** What is recorded of a call's end; `latencyMs` is what the judge reads (first chunk for streams). */
type CallEnd = Parameters<CallTelemetry['end']>[0] & { latencyMs: number };

/** A fallback starts only while at least this share of the call's total budget is left. */
const FALLBACK_SHARE = 0.25;

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

const CALL_TIMEOUTS: ReadonlySet<string> = new Set(CALL_TIMEOUT_FIELDS);

/** Makes the caller's-mistake errors of one call: raised before anything is sent. */
function requestError(provider: string, requestId: string) {
  return (reason: string) =>
    new InferenceRequestError(reason, { provider, requestId, phase: 'request', retryable: false });
}

/** An embeddings request as sent to `client`: validated, its (logical) model mapped. */
function resolveEmbeddingRequest(
  request: EmbeddingRequest,
  client: ProviderClient,
  requestId: string,
  catalog: ModelCatalog,
): ResolvedEmbeddingRequest {
  const invalid = requestError(client.name, requestId);
  if (typeof request !== 'object' || request === null) {
    throw invalid('The request must be an object with an input.');
  }
  const input: unknown = request.input;
  const usable =
    (typeof input === 'string' && input.length > 0) || (Array.isArray(input) && input.length > 0);
  if (!usable) {
    throw invalid(
      'The request needs an input: a non-empty string, or a non-empty array of strings or tokens.',
    );
  }
  if (typeof request.model !== 'string' || request.model.trim() === '') {
    throw invalid(
      'Name an embedding model in the request (model), such as "text-embedding-3-small".',
    );
  }
  const model = catalog.concrete(request.model, client.name);
  if (model === undefined) throw invalid(catalog.missing(request.model, client.name));
  return model === request.model ? (request as ResolvedEmbeddingRequest) : { ...request, model };
}

function resolveRequest(
  request: ChatCompletionRequest,
  client: ProviderClient,
  requestId: string,
  catalog: ModelCatalog,
  selection: ModelSelection | undefined,
): ResolvedChatRequest {
  const invalid = requestError(client.name, requestId);
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

/**
 * The call's own options, checked once before anything is sent: a mistake in them is the
 * caller's (`InferenceRequestError`), never a provider fault.
 */
function checkCallOptions(options: ChatCallOptions, requestId: string, provider: string): void {
  const invalid = requestError(provider, requestId);
  if (options.requestId !== undefined) {
    if (
      typeof options.requestId !== 'string' ||
      options.requestId === '' ||
      headerProblem('x-request-id', options.requestId)
    ) {
      throw invalid(
        'Call option requestId must be a non-empty string without line breaks or control characters.',
      );
    }
  }
  for (const [name, value] of options.headers ? Object.entries(options.headers) : []) {
    const problem = headerProblem(name, value);
    if (problem) throw invalid(`Call option headers: ${problem}.`);
  }
  for (const [field, value] of options.timeouts ? Object.entries(options.timeouts) : []) {
    if (!CALL_TIMEOUTS.has(field)) {
      throw invalid(
        `Call option timeouts.${field} is not supported: only ${CALL_TIMEOUT_FIELDS.join(', ')} can be set per call (connectMs is set per provider).`,
      );
    }
    const min = field === 'headersMs' ? 0 : Number.MIN_VALUE; // headersMs: 0 turns it off
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw invalid(`Call option timeouts.${field} must be a positive number of milliseconds.`);
    }
  }
  if (
    options.maxRetries !== undefined &&
    (!Number.isInteger(options.maxRetries) || options.maxRetries < 0)
  ) {
    throw invalid('Call option maxRetries must be an integer ≥ 0.');
  }
}
