import { Injectable } from '@nestjs/common';
import type {
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
import { InferenceRequestError } from './errors/index.js';
import { CALL_TIMEOUT_FIELDS, type CallTimeoutOptions } from './options/index.js';

export interface ChatCallOptions {
  /** Send this call to the named provider instead of the default one. */
  provider?: string;
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
 * typed errors and cancellation. Every call is tracked in flight: while the app drains, a call
 * made by an in-flight request goes ahead, and any other call fails with a retryable
 * `InferenceShutdownError`.
 */
@Injectable()
export class InferenceService {
  constructor(
    private readonly providers: ProviderRegistry,
    private readonly inflight: InflightRegistry,
  ) {}

  /** One completion. Resolves with the provider's answer; `result.inference` holds the metadata. */
  async chat(
    request: ChatCompletionRequest,
    options: ChatCallOptions = {},
  ): Promise<ChatCompletionResult> {
    const requestId = this.#requestId(options);
    const client = this.providers.get(options.provider, requestId);
    const resolved = resolveRequest(request, client, requestId, options);
    return client.chat(resolved, {
      ...options,
      requestId,
      signals: [options.signal],
      track: this.inflight.trackCall(requestId, client.name, resolved.model),
    });
  }

  /**
   * A streamed completion, as an Observable and an async iterable of chunks. Nothing is sent
   * until it is subscribed or iterated; bad input is reported at once, when `stream()` is called.
   */
  stream(request: ChatCompletionRequest, options: StreamCallOptions = {}): InferenceStream {
    const requestId = this.#requestId(options);
    const client = this.providers.get(options.provider, requestId);
    const resolved = resolveRequest(request, client, requestId, options);
    return new InferenceStream((signal) =>
      client.stream(resolved, {
        ...options,
        requestId,
        signals: [options.signal, signal],
        track: this.inflight.trackCall(requestId, client.name, resolved.model),
      }),
    );
  }

  #requestId(options: ChatCallOptions): string {
    return options.requestId ?? currentRequestContext()?.requestId ?? requestIdFrom(undefined);
  }
}

const CALL_TIMEOUTS: ReadonlySet<string> = new Set(CALL_TIMEOUT_FIELDS);

function resolveRequest(
  request: ChatCompletionRequest,
  client: ProviderClient,
  requestId: string,
  options: ChatCallOptions,
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
  const model = request.model ?? client.options.defaultModel;
  if (typeof model !== 'string' || model.trim() === '') {
    throw invalid(
      `No model was named, and provider "${client.name}" has no defaultModel. Name one in the request or set providers.${client.name}.defaultModel.`,
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
  // A request that names its model is sent as it is: a copy costs about a microsecond to serialise.
  return request.model === model ? (request as ResolvedChatRequest) : { ...request, model };
}
