import { Inject, Injectable, Logger } from '@nestjs/common';
import { AnswerCollector, answerOf, qualityOf, type Answer } from '../canary/answer-quality.js';
import { InferenceRouter, type RouteDecision } from '../routing/inference.router.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatCompletionResult,
  InferenceMetadata,
  StreamSummary,
} from '../client/chat.types.js';
import type { Clock } from '../client/clock.js';
import {
  textWithoutNullUsage,
  withoutUsage,
  type OpenStream,
} from '../client/completion-stream.js';
import type {
  EmbeddingRequest,
  EmbeddingResponse,
  EmbeddingResult,
} from '../client/embedding.types.js';
import { firstChoiceOf } from '../client/first-choice.js';
import type { StreamBatch } from '../client/inference.stream.js';
import {
  usageOf,
  type ProviderClient,
  type ResolvedChatRequest,
  type ResolvedEmbeddingRequest,
  type UnaryAnswer,
} from '../client/provider.client.js';
import { ProviderRegistry } from '../client/provider.registry.js';
import { cancelSourceOf } from '../context/http-request-context.js';
import { currentRequestContext } from '../context/request-context.js';
import {
  faultOf,
  InferenceAbortedError,
  InferenceError,
  InferenceRequestError,
} from '../errors/index.js';
import { INFERENCE_LOGGER_CONTEXT } from '../inference.constants.js';
import { InflightRegistry } from '../lifecycle/inflight.registry.js';
import { requestIdFrom } from '../lifecycle/request-id.js';
import { ModelCatalog } from '../model/model-catalog.js';
import { costOfCall, type CallCost } from '../pricing/call-cost.js';
import { logCallFailure } from '../telemetry/call-failure.log.js';
import { InferenceTelemetry, type CallStart } from '../telemetry/inference.telemetry.js';
import type { CallEndRecord, CallOperation } from './call-end.record.js';
import { CallLeg } from './call-leg.js';
import type {
  ChatCallOptions,
  EmbedCallOptions,
  StreamCallOptions,
} from './call-options.interface.js';
import { checkCallOptions, withRouteDefaults } from './call-options.js';
import { INFERENCE_CALL_STEPS, type CallStep } from './call-step.js';
import { InferenceCall } from './inference-call.js';
import { resolveEmbeddingRequest, resolveRequest } from './resolve-request.js';

/** A fallback starts only while at least this share of the call's total budget is left. */
const FALLBACK_SHARE = 0.25;

/** A stream the caller stopped by returning early: not judged, like any cancelled call. */
const CANCELLED = new InferenceAbortedError('The caller stopped reading the stream.', {
  provider: 'caller',
  requestId: 'caller',
  phase: 'aborted',
  retryable: false,
});

/**
 * The one path every call takes, unary, streamed or embeddings: made (context read once, options
 * checked, routed, request resolved), started (tracked in flight, then each step's `before`),
 * run on its provider (a canary call that fails before any byte reached its caller runs again on
 * stable, within the same deadline), and ended once with one record that every step, telemetry,
 * provider health and the failed-call log read. One clock, the module's, times it all.
 */
@Injectable()
export class CallPipeline {
  readonly #logger = new Logger(INFERENCE_LOGGER_CONTEXT);
  readonly #clock: Clock;

  constructor(
    private readonly providers: ProviderRegistry,
    private readonly inflight: InflightRegistry,
    private readonly router: InferenceRouter,
    private readonly catalog: ModelCatalog,
    private readonly telemetry: InferenceTelemetry,
    @Inject(INFERENCE_CALL_STEPS) private readonly steps: readonly CallStep[],
  ) {
    this.#clock = providers.clock;
  }

  /**
   * Makes a call: reads the request context once, applies the route's defaults, checks the call's
   * options, routes it and resolves the request for its provider. Throws the caller's mistakes
   * at once; sends nothing.
   */
  make(
    operation: CallOperation,
    request: ChatCompletionRequest | EmbeddingRequest,
    given: StreamCallOptions & EmbedCallOptions,
  ): InferenceCall {
    const context = currentRequestContext();
    const requestId = given.requestId ?? context?.requestId ?? requestIdFrom(undefined);
    const selection = context?.model;
    const options = withRouteDefaults(given, selection);
    const origin = {
      headers: context?.headers,
      selection,
      inflight: context?.inflight,
      cancel: cancelSourceOf(context),
    };
    const model = (request as { model?: string } | null)?.model;
    let decision: RouteDecision;
    if (options.provider !== undefined) decision = { provider: options.provider };
    else if (operation === 'embeddings' && options.routing !== 'rollout')
      decision = { provider: this.providers.embeddingsProvider };
    else decision = this.#route(requestId, options, origin.headers, model ?? selection?.model);
    checkCallOptions(options, requestId, decision.provider);
    const client = this.providers.get(decision.provider, requestId);
    const resolved =
      operation === 'embeddings'
        ? resolveEmbeddingRequest(request as EmbeddingRequest, client, requestId, this.catalog)
        : resolveRequest(
            request as ChatCompletionRequest,
            client,
            requestId,
            this.catalog,
            selection,
          );
    const totalMs = options.timeouts?.totalMs ?? client.options.timeouts.totalMs;
    return new InferenceCall(
      operation,
      requestId,
      request,
      options,
      origin,
      decision,
      client,
      resolved,
      bodyOf(operation, client, resolved, requestId),
      totalMs,
    );
  }

  /** Runs a unary call (chat or embeddings) to its end; resolves with the provider's answer. */
  async unary(call: InferenceCall): Promise<ChatCompletionResult | EmbeddingResult> {
    let record: CallEndRecord | undefined;
    try {
      const started = this.#start(call);
      if (started) await started;
      for (;;) {
        const leg = this.#leg(call, record);
        let answer: UnaryAnswer;
        try {
          answer = await leg.client.unary(leg);
        } catch (error) {
          record = this.#legEnded(call, leg, error, undefined, true);
          if (record.fallback === undefined) throw error;
          continue;
        } finally {
          leg.scope.dispose();
        }
        const result = withMetadata(answer, leg);
        record = this.#legEnded(call, leg, undefined, result);
        return result;
      }
    } catch (error) {
      record ??= this.#refused(call, error);
      throw error;
    } finally {
      this.#end(call, record!);
    }
  }

  /**
   * A streamed call, as one generator: started at its first `next()`, opened on its provider
   * (falling back before its first chunk), its chunks read and handed on as they come (those of
   * one network read as one batch, with the provider's text of each), and
   * ended once, however it ends, the caller's early `return()` included.
   */
  async *stream(
    call: InferenceCall,
    consumerSignal: AbortSignal,
  ): AsyncGenerator<StreamBatch, void, undefined> {
    call.consumerSignal = consumerSignal;
    let record: CallEndRecord | undefined;
    let leg: CallLeg | undefined;
    let open: OpenStream | undefined;
    try {
      const started = this.#start(call);
      if (started) await started;
      for (;;) {
        leg = this.#leg(call, record);
        try {
          open = await leg.client.openStream(leg);
          record = undefined;
          break;
        } catch (error) {
          leg.scope.dispose();
          record = this.#legEnded(call, leg, error, undefined, true);
          if (record.fallback === undefined) throw error;
        }
      }
      const wantsUsage =
        (leg.request as ResolvedChatRequest).stream_options?.include_usage === true;
      const { reader } = open;
      let chunk: ChatCompletionChunk | undefined | null = open.first;
      // Each pass hands on what one network read brought, as one batch; `null` asks for more.
      while (chunk !== undefined) {
        const chunks: ChatCompletionChunk[] = [];
        const texts: (string | undefined)[] = [];
        while (chunk) {
          if (chunk.usage) leg.usage = chunk.usage;
          if (chunk.model) leg.responseModel = chunk.model;
          const finish = firstChoiceOf(chunk)?.finish_reason;
          if (finish) leg.finishReason = finish;
          let text = reader.text;
          let out: ChatCompletionChunk | undefined = chunk;
          if (!wantsUsage && 'usage' in chunk) {
            // Usage the caller did not ask for is taken out: a changed chunk, whose text is the
            // provider's without `"usage":null`, or else the chunk serialised again.
            text =
              chunk.usage === null && text !== undefined ? textWithoutNullUsage(text) : undefined;
            out = withoutUsage(chunk);
          }
          if (out) {
            if (leg.chunks === 0) {
              leg.timeToFirstChunkMs = leg.scope.elapsedMs();
              call.tracking?.streaming();
            }
            leg.chunks++;
            leg.collector?.add(out);
            chunks.push(out);
            texts.push(text);
          }
          try {
            chunk = reader.take();
          } catch (error) {
            // A bad event after good ones of the same read: those are handed on first.
            if (chunks.length > 0) yield { chunks, texts };
            throw error;
          }
        }
        if (chunks.length > 0) yield { chunks, texts };
        if (chunk === null) {
          await reader.fill();
          chunk = reader.take();
        }
      }
      // `[DONE]`: the answer is whole. What the upstream does with the body now cannot change that.
      reader.release();
      leg.scope.dispose();
      record = this.#legEnded(call, leg, undefined);
    } catch (thrown) {
      if (record === undefined && leg !== undefined && open !== undefined) {
        // Failures before the stream opened are typed already; the rest are typed here, once.
        const error = leg.client.classify(thrown, leg, open.attempt);
        record = this.#cutShort(call, leg, open, error);
        throw error;
      }
      record ??= this.#refused(call, thrown);
      throw thrown;
    } finally {
      // An early `return()` by the caller lands here with no record: it stopped reading.
      if (record === undefined && leg !== undefined && open !== undefined) {
        record = this.#cutShort(call, leg, open, undefined);
      }
      if (record !== undefined) this.#end(call, record);
    }
  }

  /** A stream that did not reach `[DONE]`: its socket freed, the upstream told, its run ended. */
  #cutShort(
    call: InferenceCall,
    leg: CallLeg,
    open: OpenStream,
    error: InferenceError | undefined,
  ): CallEndRecord {
    leg.scope.cancel();
    open.response.body.destroy();
    leg.scope.dispose();
    return this.#legEnded(call, leg, error ?? CANCELLED);
  }

  /**
   * Starts the call: its clock and deadline, its in-flight entry (refused while the app drains,
   * unless an in-flight request makes it), then each step's `before`, in order.
   */
  #start(call: InferenceCall): Promise<void> | undefined {
    call.startedAt = this.#clock.now();
    call.deadline = call.startedAt + call.totalMs;
    call.tracking = this.inflight.trackCall(
      call.requestId,
      call.client.name,
      call.request.model,
      call.origin.inflight,
    )((retryAfterMs) => call.stop(retryAfterMs));
    for (let i = 0; i < this.steps.length; i++) {
      const pending = this.steps[i]!.before?.(call);
      if (pending) return this.#startFrom(call, i + 1, pending);
    }
    return undefined;
  }

  async #startFrom(call: InferenceCall, next: number, pending: Promise<void>): Promise<void> {
    await pending;
    for (let i = next; i < this.steps.length; i++) await this.steps[i]!.before?.(call);
  }

  /** A run of the call on a provider: the first, or the stable fallback after `failed`. */
  #leg(call: InferenceCall, failed: CallEndRecord | undefined): CallLeg {
    const { decision, client, request, body } = failed ? call.fallbackTarget! : call;
    const { operation, options } = call;
    const streamed = operation === 'stream';
    const scope = client.scope(
      options.timeouts,
      [options.signal, call.consumerSignal, call.origin.cancel],
      call.deadline,
    );
    if (call.stoppedRetryAfterMs !== undefined) scope.stop(call.stoppedRetryAfterMs);
    const telemetry = this.telemetry.start(telemetryStart(operation, client, request, decision));
    const leg = new CallLeg(
      operation,
      call.requestId,
      decision,
      client,
      request,
      operation === 'embeddings' ? 'embeddings' : 'chat',
      body,
      scope,
      client.retryPolicy(options.maxRetries),
      options.headers,
      telemetry,
      this.#logger,
      failed,
    );
    // A stream a rollout routed is put back together as it passes, for its quality signals.
    if (streamed && decision.side) leg.collector = new AnswerCollector();
    call.leg = leg;
    return leg;
  }

  /**
   * The end of a run on one provider: its record, then what reads it at once: telemetry, the
   * provider's health, the failed-call log. Decides whether a failed canary run falls back.
   */
  #legEnded(
    call: InferenceCall,
    leg: CallLeg,
    error: unknown,
    result?: ChatCompletionResult | EmbeddingResult,
    mayFallBack = false,
  ): CallEndRecord {
    const { client, decision } = leg;
    const request = leg.request as ResolvedChatRequest;
    const model = request.model;
    const prices = client.options.prices;
    const streamed = call.operation === 'stream';
    const completed = error === undefined;
    const durationMs = result?.inference.durationMs ?? leg.scope.elapsedMs();
    const outcome = completed ? 'completed' : outcomeOf(error);
    const fault = completed ? undefined : faultOf(error, call.options.timeouts);
    let usage = leg.usage;
    let cost: CallCost | undefined;
    let answer: Answer | undefined;
    let responseModel = streamed ? (leg.responseModel ?? model) : undefined;
    let responseId: string | undefined;
    let finishReason = leg.finishReason;
    if (result !== undefined) {
      const { inference } = result;
      usage = inference.usage;
      cost = inference.cost = costOfCall(prices, model, usage);
      if (decision.side) inference.side = decision.side;
      if (leg.fallbackFrom) inference.fallbackFrom = leg.fallbackFrom.provider;
      responseModel = result.model;
      if (call.operation === 'chat') {
        const completion = result as ChatCompletionResult;
        responseId = completion.id;
        finishReason = completion.choices[0]?.finish_reason;
        // Quality is read only from calls a rollout routed: they are the ones judged.
        if (decision.side) answer = answerOf(completion);
      }
    } else if (streamed && (leg.timeToHeadersMs !== undefined || outcome !== 'failed')) {
      // A stream that opened, or that its caller stopped, may have been billed: estimated from
      // what passed when the provider sent no usage.
      cost = costOfCall(prices, model, usage, { messages: request.messages, chunks: leg.chunks });
      if (completed) answer = leg.collector?.answer(finishReason);
    }
    const record: CallEndRecord = {
      operation: call.operation,
      requestId: call.requestId,
      provider: client.name,
      decision,
      model,
      outcome,
      error,
      fault,
      attempts: leg.attempts,
      durationMs,
      latencyMs: leg.timeToFirstChunkMs ?? durationMs,
      timeToHeadersMs: leg.timeToHeadersMs,
      timeToFirstChunkMs: leg.timeToFirstChunkMs,
      chunks: streamed ? leg.chunks : undefined,
      usage,
      cost,
      upstreamRequestId: leg.upstreamRequestId,
      responseModel,
      responseId,
      finishReason,
      answer,
      quality: answer && qualityOf(request, answer),
      fallback: mayFallBack ? this.#fallbackOf(call, decision, error) : undefined,
      fallbackFrom: leg.fallbackFrom,
    };
    if (record.fallback !== undefined) leg.telemetry.fallback(record.fallback, error);
    leg.telemetry.end(record);
    if (completed) client.health.succeeded();
    else if (fault === 'provider') client.health.failed(error);
    if (!completed) logCallFailure(this.#logger, record);
    return record;
  }

  /** The record of a call that ended before any provider run: refused by a step or the drain. */
  #refused(call: InferenceCall, error: unknown): CallEndRecord {
    const durationMs = this.#clock.now() - call.startedAt;
    const record: CallEndRecord = {
      operation: call.operation,
      requestId: call.requestId,
      provider: call.client.name,
      decision: call.decision,
      model: call.request.model,
      outcome: outcomeOf(error),
      error,
      // No provider was involved: a step's refusal that is not a typed error is the request's.
      fault: error instanceof InferenceError ? faultOf(error, call.options.timeouts) : 'client',
      attempts: 0,
      durationMs,
      latencyMs: durationMs,
    };
    this.telemetry
      .start(telemetryStart(call.operation, call.client, call.request, call.decision))
      .end(record);
    logCallFailure(this.#logger, record);
    return record;
  }

  /**
   * Where a failed run goes on: the stable provider, when the route names it as the fallback,
   * the failure may fall back, enough of the call's budget is left, and the request can be sent
   * there (its model has a name on stable). Keeps the fallback's target on the call.
   */
  #fallbackOf(call: InferenceCall, decision: RouteDecision, error: unknown): string | undefined {
    if (decision.fallback === undefined || call.operation === 'embeddings') return undefined;
    const fault = faultOf(error);
    const may =
      fault === 'provider' ||
      (fault === 'client' && error instanceof InferenceError && error.status !== undefined);
    if (!may || call.deadline - this.#clock.now() < call.totalMs * FALLBACK_SHARE) return undefined;
    try {
      const client = this.providers.get(decision.fallback, call.requestId);
      const request = resolveRequest(
        call.original as ChatCompletionRequest,
        client,
        call.requestId,
        this.catalog,
        call.origin.selection,
      );
      call.fallbackTarget = {
        decision: {
          provider: client.name,
          side: 'stable',
          phaseKey: decision.phaseKey,
          fallbackFrom: { provider: decision.provider, error },
        },
        client,
        request,
        body: bodyOf(call.operation, client, request, call.requestId),
      };
      return client.name;
    } catch {
      // Stable cannot take this request: the call fails with the canary's own error.
      return undefined;
    }
  }

  /** The call's end: its in-flight entry closed, then every step's `after`, once, in order. */
  #end(call: InferenceCall, record: CallEndRecord): void {
    if (call.record !== undefined) return;
    call.record = record;
    call.tracking?.end();
    for (const step of this.steps) {
      try {
        step.after?.(call, record);
      } catch (error) {
        this.#logger.error(
          `A call step failed at the end of request ${call.requestId}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    if (call.operation === 'stream') call.options.onEnd?.(summaryOf(record));
  }

  /** Where a call goes; `model` is the one it names, for the rollout's model equivalence. */
  #route(
    requestId: string,
    options: ChatCallOptions,
    headers: RouteRequestHeaders,
    model: string | undefined,
  ): RouteDecision {
    try {
      return this.router.route({ requestId, stickyKey: options.stickyKey, headers, model });
    } catch (error) {
      // The router runs the application's sticky-key function: its failure is the caller's.
      if (error instanceof InferenceError) throw error;
      throw new InferenceRequestError(
        `The call could not be routed: ${error instanceof Error ? error.message : String(error)}`,
        { provider: 'router', requestId, phase: 'request', retryable: false, cause: error },
      );
    }
  }
}

type RouteRequestHeaders = Parameters<InferenceRouter['route']>[0]['headers'];

/**
 * The body of a request as sent to `client`. A request JSON cannot express (a BigInt, a cycle) is
 * the caller's mistake, reported when the call is made.
 */
function bodyOf(
  operation: CallOperation,
  client: ProviderClient,
  request: ResolvedChatRequest | ResolvedEmbeddingRequest,
  requestId: string,
): string {
  try {
    return operation === 'embeddings'
      ? JSON.stringify(request)
      : client.chatBody(request as ResolvedChatRequest, operation === 'stream');
  } catch (error) {
    throw new InferenceRequestError(
      `The request cannot be sent as JSON: ${error instanceof Error ? error.message : String(error)}`,
      { provider: client.name, requestId, phase: 'request', retryable: false, cause: error },
    );
  }
}

/** What telemetry is told of a call's run on `client` as it starts. */
function telemetryStart(
  operation: CallOperation,
  client: ProviderClient,
  request: ResolvedChatRequest | ResolvedEmbeddingRequest,
  decision: RouteDecision,
): CallStart {
  const chat = request as ResolvedChatRequest;
  return {
    operation: operation === 'embeddings' ? 'embeddings' : 'chat',
    provider: client.name,
    model: request.model,
    origin: client.options.origin,
    side: decision.side,
    streaming: operation === 'stream',
    maxTokens: chat.max_tokens ?? chat.max_completion_tokens,
    temperature: chat.temperature,
  };
}

/**
 * A failure's outcome: stopped by its caller (`aborted`), or failed, the drain's stop included
 * (as streams have always reported it; its fault is `cancelled`).
 */
function outcomeOf(error: unknown): CallEndRecord['outcome'] {
  return error instanceof InferenceError && error.phase === 'aborted' ? 'aborted' : 'failed';
}

/**
 * A unary answer with the call's metadata under `inference` (not enumerable, so JSON stays
 * OpenAI's).
 */
function withMetadata<T extends ChatCompletion | EmbeddingResponse>(
  answer: T,
  leg: CallLeg,
): T & { readonly inference: InferenceMetadata } {
  const inference: InferenceMetadata = {
    provider: leg.client.name,
    model: answer.model ?? leg.request.model,
    requestId: leg.requestId,
    upstreamRequestId: leg.upstreamRequestId,
    ...(leg.rateLimit && { rateLimit: leg.rateLimit }),
    attempts: leg.attempts,
    timeToHeadersMs: leg.timeToHeadersMs!,
    durationMs: leg.scope.elapsedMs(),
    usage: usageOf(answer.usage),
  };
  Object.defineProperty(answer, 'inference', { value: inference, enumerable: false });
  return answer as T & { readonly inference: InferenceMetadata };
}

/** What a stream's `onEnd` is told: its last run's record, as a summary. */
function summaryOf(record: CallEndRecord): StreamSummary {
  const summary: StreamSummary = {
    provider: record.provider,
    model: record.responseModel ?? record.model,
    requestId: record.requestId,
    upstreamRequestId: record.upstreamRequestId,
    attempts: record.attempts,
    durationMs: record.durationMs,
    chunks: record.chunks ?? 0,
    outcome: record.outcome,
    timeToHeadersMs: record.timeToHeadersMs,
    timeToFirstChunkMs: record.timeToFirstChunkMs,
    usage: record.usage,
    finishReason: record.finishReason,
    cost: record.cost,
  };
  if (record.error !== undefined && record.error !== CANCELLED) summary.error = record.error;
  if (record.decision.side) summary.side = record.decision.side;
  if (record.fallbackFrom) summary.fallbackFrom = record.fallbackFrom.provider;
  return summary;
}
