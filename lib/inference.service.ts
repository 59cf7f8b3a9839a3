export type {
  ChatCallOptions,
  EmbedCallOptions,
  StreamCallOptions,
} from './call/call-options.interface.js';
import { Injectable, Logger } from '@nestjs/common';
import { InferenceRouter, type CallRecord, type RouteDecision } from './canary/inference.router.js';
import { ModelCatalog } from './model/model-catalog.js';
import type { CallTelemetry } from './telemetry/call-telemetry.js';
import { InferenceTelemetry } from './telemetry/inference.telemetry.js';
import { logCallFailure, type FailedCall } from './telemetry/call-failure.log.js';
import { INFERENCE_LOGGER_CONTEXT } from './inference.constants.js';
import type {
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatCompletionResult,
} from './client/chat.types.js';
import { InferenceStream } from './client/inference.stream.js';
import type {
  ProviderCallOptions,
  ProviderClient,
  ResolvedChatRequest,
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
import { checkCallOptions, withRouteDefaults } from './call/call-options.js';
import { resolveEmbeddingRequest, resolveRequest } from './call/resolve-request.js';
import type {
  ChatCallOptions,
  EmbedCallOptions,
  StreamCallOptions,
} from './call/call-options.interface.js';
import { costOfCall } from './pricing/call-cost.js';
import { AnswerCollector, answerOf, qualityOf, type Answer } from './canary/answer-quality.js';
import { ShadowMirror } from './canary/shadow.mirror.js';

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
