import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import type { CompletionUsage } from '../client/chat.types.js';
import { InferenceError } from '../errors/index.js';
import type { CallCost } from '../pricing/call-cost.js';
import type { CallInstruments } from './call-instruments.js';
import { ATTR } from './telemetry-names.js';

/** How a call ended, as far as telemetry is concerned. */
export interface CallEnd {
  error?: unknown;
  durationMs: number;
  usage?: CompletionUsage;
  cost?: CallCost;
  responseModel?: string;
  responseId?: string;
  finishReason?: string | null;
  /** Streams: until the first chunk reached the caller. */
  timeToFirstChunkMs?: number;
  chunks?: number;
}

/** The attribute sets one kind of call records with, built once (see `InferenceTelemetry`). */
export interface CallAttributes {
  base: Attributes;
  /** The span's: `base` and where the provider lives. */
  span: Attributes;
  input: Attributes;
  output: Attributes;
  exactCost: Attributes;
  estimatedCost: Attributes;
  /**
   * What the calls of this set cost so far, exact and estimated: summed here and reported when
   * metrics are collected (an observable counter), so a call's cost costs no attribute hashing.
   */
  costUsd: { exact: number; estimated: number };
}

export function callAttributes(base: Attributes, server: Attributes): CallAttributes {
  return {
    base,
    span: { ...base, ...server },
    input: { ...base, [ATTR.tokenType]: 'input' },
    output: { ...base, [ATTR.tokenType]: 'output' },
    exactCost: { ...base, [ATTR.costEstimated]: false },
    estimatedCost: { ...base, [ATTR.costEstimated]: true },
    costUsd: { exact: 0, estimated: 0 },
  };
}

/** One call's span and metric attributes, from its start to its single end. */
export class CallTelemetry {
  #ended = false;

  constructor(
    private readonly instruments: CallInstruments,
    readonly span: Span,
    private readonly attributes: CallAttributes,
  ) {}

  /** The provider client is about to retry after `error`, in `delayMs`. */
  retry(attempt: number, delayMs: number, error: InferenceError): void {
    this.instruments.retries.add(1, { ...this.attributes.base, [ATTR.errorType]: error.code });
    if (this.span.isRecording()) {
      this.span.addEvent('retry', {
        'inference.retry.attempt': attempt + 1,
        'inference.retry.delay_ms': delayMs,
        [ATTR.errorType]: error.code,
      });
    }
  }

  /** The call failed before answering and goes to `to` instead. */
  fallback(to: string, error: unknown): void {
    const errorType = errorTypeOf(error);
    this.instruments.fallbacks.add(1, { ...this.attributes.base, [ATTR.errorType]: errorType });
    if (this.span.isRecording()) {
      this.span.addEvent('fallback', { 'inference.fallback.to': to, [ATTR.errorType]: errorType });
    }
  }

  /** Records the call's duration, tokens, chunks and cost, and ends its span. Once. */
  end(end: CallEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    const { base, input, output } = this.attributes;
    const attributes =
      end.error === undefined ? base : { ...base, [ATTR.errorType]: errorTypeOf(end.error) };
    const { instruments } = this;
    instruments.duration.record(end.durationMs / 1000, attributes);
    if (end.usage) {
      instruments.tokens.record(end.usage.prompt_tokens, input);
      instruments.tokens.record(end.usage.completion_tokens, output);
    }
    if (end.timeToFirstChunkMs !== undefined) {
      instruments.timeToFirstChunk.record(end.timeToFirstChunkMs / 1000, base);
      const chunks = end.chunks ?? 0;
      if (chunks > 1) {
        instruments.timePerOutputChunk.record(
          (end.durationMs - end.timeToFirstChunkMs) / 1000 / (chunks - 1),
          base,
        );
      }
    }
    if (end.cost) {
      if (end.cost.estimated) this.attributes.costUsd.estimated += end.cost.usd;
      else this.attributes.costUsd.exact += end.cost.usd;
    }
    const span = this.span;
    if (span.isRecording()) {
      if (end.responseModel) span.setAttribute(ATTR.responseModel, end.responseModel);
      if (end.responseId) span.setAttribute(ATTR.responseId, end.responseId);
      if (end.finishReason) span.setAttribute(ATTR.finishReasons, [end.finishReason]);
      if (end.usage) {
        span.setAttribute(ATTR.inputTokens, end.usage.prompt_tokens);
        span.setAttribute(ATTR.outputTokens, end.usage.completion_tokens);
      }
      if (end.cost) span.setAttribute('inference.cost.usd', end.cost.usd);
      if (end.error !== undefined) {
        span.setAttribute(ATTR.errorType, errorTypeOf(end.error));
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: end.error instanceof Error ? end.error.message : String(end.error),
        });
      }
    }
    span.end();
  }
}

/** The error's code (a bounded set), or `_OTHER` as the conventions say. */
function errorTypeOf(error: unknown): string {
  return error instanceof InferenceError ? error.code : '_OTHER';
}

/** What calls get when telemetry is off: records nothing, allocates nothing per call. */
export class DisabledCallTelemetry extends CallTelemetry {
  override retry(): void {}
  override fallback(): void {}
  override end(): void {}
}
