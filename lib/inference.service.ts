import { Injectable } from '@nestjs/common';
import { outcomeOf } from './canary/call-outcome.js';
import { InferenceRouter, type RouteDecision } from './canary/inference.router.js';
import { ModelCatalog } from './model/model-catalog.js';
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
import { InferenceAbortedError, InferenceRequestError } from './errors/index.js';
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
  ) {}

  /** One completion. Resolves with the provider's answer; `result.inference` holds the metadata. */
  async chat(
    request: ChatCompletionRequest,
    options: ChatCallOptions = {},
  ): Promise<ChatCompletionResult> {
    const requestId = this.#requestId(options);
    options = withRouteDefaults(options);
    const decision = this.#route(requestId, options);
    const client = this.providers.get(decision.provider, requestId);
    const resolved = this.#resolve(request, client, requestId, options);
    const startedAt = performance.now();
    try {
      const result = await this.#chatOn(client, resolved, requestId, options);
      this.router.record(
        decision,
        undefined,
        result.inference.durationMs,
        result.inference.cost?.usd,
      );
      if (decision.side) result.inference.side = decision.side;
      return result;
    } catch (error) {
      this.router.record(decision, error, performance.now() - startedAt);
      if (!canFallBack(decision, error)) throw error;
      const fallback: RouteDecision = {
        provider: decision.fallback!,
        side: 'stable',
        phaseKey: decision.phaseKey,
      };
      const stable = this.providers.get(fallback.provider, requestId);
      const stableRequest = this.#resolve(request, stable, requestId, options);
      const result = await this.#chatOn(stable, stableRequest, requestId, options).catch(
        (fallbackError: unknown) => {
          this.router.record(fallback, fallbackError, performance.now() - startedAt);
          throw fallbackError;
        },
      );
      this.router.record(
        fallback,
        undefined,
        result.inference.durationMs,
        result.inference.cost?.usd,
      );
      Object.assign(result.inference, { side: 'stable', fallbackFrom: client.name });
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
    const decision = this.#route(requestId, options);
    const client = this.providers.get(decision.provider, requestId);
    const resolved = this.#resolve(request, client, requestId, options);
    return new InferenceStream((signal) =>
      this.#routedStream(client, resolved, request, decision, requestId, options, signal),
    );
  }

  async *#routedStream(
    client: ProviderClient,
    resolved: ResolvedChatRequest,
    request: ChatCompletionRequest,
    decision: RouteDecision,
    requestId: string,
    options: StreamCallOptions,
    signal: AbortSignal,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    let failed: StreamSummary | undefined;
    const primary = this.#streamOn(client, resolved, requestId, options, signal, (summary) => {
      this.#recordStream(decision, summary);
      if (
        summary.chunks === 0 &&
        summary.outcome === 'failed' &&
        canFallBack(decision, summary.error)
      ) {
        failed = summary; // the caller's onEnd waits for the fallback's end
        return;
      }
      options.onEnd?.(withSide(summary, decision.side));
    });
    try {
      yield* primary;
      return;
    } catch (error) {
      if (!failed) throw error;
    }
    const fallback: RouteDecision = {
      provider: decision.fallback!,
      side: 'stable',
      phaseKey: decision.phaseKey,
    };
    const stable = this.providers.get(fallback.provider, requestId);
    yield* this.#streamOn(
      stable,
      this.#resolve(request, stable, requestId, options),
      requestId,
      options,
      signal,
      (summary) => {
        this.#recordStream(fallback, summary);
        options.onEnd?.({ ...withSide(summary, 'stable'), fallbackFrom: client.name });
      },
    );
  }

  #chatOn(
    client: ProviderClient,
    resolved: ResolvedChatRequest,
    requestId: string,
    options: ChatCallOptions,
  ): Promise<ChatCompletionResult> {
    return client.chat(resolved, {
      ...options,
      requestId,
      signals: [options.signal],
      track: this.inflight.trackCall(requestId, client.name, resolved.model),
    });
  }

  #streamOn(
    client: ProviderClient,
    resolved: ResolvedChatRequest,
    requestId: string,
    options: StreamCallOptions,
    signal: AbortSignal,
    onEnd: (summary: StreamSummary) => void,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    return client.stream(resolved, {
      ...options,
      requestId,
      signals: [options.signal, signal],
      track: this.inflight.trackCall(requestId, client.name, resolved.model),
      onEnd,
    });
  }

  /** A stream's outcome for the router (one the caller ended is not judged, but its cost counts). */
  #recordStream(decision: RouteDecision, summary: StreamSummary): void {
    const error = summary.outcome === 'aborted' ? (summary.error ?? CANCELLED) : summary.error;
    this.router.record(decision, error, latencyOf(summary), summary.cost?.usd);
  }

  #route(requestId: string, options: ChatCallOptions): RouteDecision {
    if (options.provider !== undefined) return { provider: options.provider };
    return this.router.route({
      requestId,
      stickyKey: options.stickyKey,
      headers: currentRequestContext()?.headers,
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

/** A failed canary call goes to the stable provider, unless the caller or the app stopped it. */
function canFallBack(decision: RouteDecision, error: unknown): boolean {
  return decision.fallback !== undefined && outcomeOf(error) !== undefined;
}

/** A stream's latency for the judge: until the first chunk, or the whole call without one. */
function latencyOf(summary: StreamSummary): number {
  return summary.timeToFirstChunkMs ?? summary.durationMs;
}

function withSide(summary: StreamSummary, side: RouteDecision['side']): StreamSummary {
  if (side) summary.side = side;
  return summary;
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
  if (model === undefined) {
    throw invalid(
      `Model "${named}" has no name for provider "${client.name}". Add models.${named}.${client.name} to the module options.`,
    );
  }
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
