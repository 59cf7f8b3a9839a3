import type { IncomingHttpHeaders } from 'node:http';
import {
  InferenceAbortedError,
  InferenceConnectionError,
  InferenceError,
  InferenceHttpError,
  InferenceIncompleteStreamError,
  InferenceProtocolError,
  InferenceRateLimitError,
  InferenceRequestError,
  InferenceShutdownError,
  InferenceStreamError,
  InferenceTimeoutError,
  redactSecrets,
  type FailurePhase,
  type UpstreamErrorBody,
} from '../errors/index.js';
import type { AttemptTimeout } from './attempt-scope.js';
import type { CallScope } from './call-scope.js';
import { retryAfterMs, shouldRetryHeader } from './retry-after.js';
import { SseOverflowError } from './sse.decoder.js';
import { truncate, upstreamErrorIn } from './upstream-error.js';
import { UpstreamFault } from './upstream-fault.js';

/** Statuses worth another attempt: timeouts, conflicts, rate limits and server faults. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 409, 429, 500, 502, 503, 504]);

const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

export interface FailureContext {
  provider: string;
  requestId: string;
  scope: CallScope;
  /** Which of the attempt's own timers fired, if one did. */
  timedOut?: AttemptTimeout;
  /** Where the attempt was: before the response headers, or reading the body. */
  phase: 'headers' | 'body';
  attempts: number;
  upstreamRequestId?: string;
  secrets: readonly string[];
}

/** Turns anything an attempt threw into the one typed error that describes it. */
export function classifyFailure(error: unknown, ctx: FailureContext): InferenceError {
  if (error instanceof InferenceError) return error;
  const base = {
    provider: ctx.provider,
    requestId: ctx.requestId,
    attempts: ctx.attempts,
    upstreamRequestId: ctx.upstreamRequestId,
    cause: error,
  };
  const where = `provider "${ctx.provider}"`;

  // The scope's own abort explains undici's abort errors, whatever their shape.
  if (ctx.scope.abortCause === 'caller') {
    return new InferenceAbortedError(`The call to ${where} was cancelled by the caller.`, {
      ...base,
      phase: 'aborted',
      retryable: false,
    });
  }
  if (ctx.scope.abortCause === 'shutdown') {
    return new InferenceShutdownError(
      `The call to ${where} was stopped: the application's drain deadline was reached.`,
      { ...base, phase: 'shutdown', retryable: true, retryAfterMs: ctx.scope.stopRetryAfterMs },
    );
  }
  if (ctx.scope.abortCause === 'deadline') {
    return new InferenceTimeoutError(
      `The call to ${where} ran out of its total time budget after ${Math.round(ctx.scope.elapsedMs())} ms.`,
      { ...base, phase: 'deadline', retryable: true },
    );
  }

  if (ctx.timedOut === 'headers') return timeout('headers', 'waiting for headers from', ctx, base);
  if (ctx.timedOut === 'first-chunk') {
    return timeout('first-chunk', 'waiting for the first chunk from', ctx, base);
  }
  if (ctx.timedOut === 'idle') return timeout('idle', 'waiting for the next bytes from', ctx, base);

  if (error instanceof UpstreamFault) {
    const Type =
      error.kind === 'error-frame'
        ? InferenceStreamError
        : error.kind === 'incomplete'
          ? InferenceIncompleteStreamError
          : InferenceProtocolError; // protocol, too-large
    const upstream = error.upstream && redactFields(error.upstream, ctx);
    return new Type(`${capitalize(where)}: ${sentence(redact(error.message, ctx))}`, {
      ...base,
      phase: 'body',
      retryable: error.retryable,
      upstream,
    });
  }
  if (error instanceof SseOverflowError) {
    return new InferenceProtocolError(`${capitalize(where)}: ${sentence(error.message)}`, {
      ...base,
      phase: 'body',
      retryable: false,
    });
  }

  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return timeout('connect', 'connecting to', ctx, base);
  if (code === 'UND_ERR_INVALID_ARG') {
    // undici refused the request before sending it (a header it cannot send): the caller's mistake.
    return new InferenceRequestError(
      `The request to ${where} could not be sent: ${redact((error as Error).message, ctx)}.`,
      { ...base, phase: 'request', retryable: false },
    );
  }

  if (typeof code === 'string' && CONNECTION_CODES.has(code)) {
    const phase: FailurePhase = CONNECT_CODES.has(code) ? 'connect' : ctx.phase;
    return new InferenceConnectionError(
      `The connection to ${where} failed (${code}) ${phase === 'body' ? 'while reading the response' : phase === 'connect' ? 'while connecting' : 'before the response headers'}.`,
      { ...base, phase, retryable: true },
    );
  }
  const name = typeof code === 'string' ? code : error instanceof Error ? error.name : typeof error;
  return new InferenceConnectionError(`The call to ${where} failed unexpectedly (${name}).`, {
    ...base,
    phase: ctx.phase,
    retryable: false,
  });
}

/** The typed error for an HTTP error status; `body` is the start of the provider's error body. */
export function statusFailure(
  status: number,
  headers: IncomingHttpHeaders,
  body: string,
  nowMs: number,
  ctx: FailureContext,
): InferenceHttpError {
  const verdict = shouldRetryHeader(headers);
  const retryable = verdict ?? RETRYABLE_STATUSES.has(status);
  // Redact before truncating, so no part of a key survives a cut.
  const upstream = upstreamErrorIn(redact(body, ctx));
  const detail = upstream?.message ?? quote(body, ctx);
  const message = `Provider "${ctx.provider}" answered ${status}${detail ? `: ${detail}` : '.'}`;
  const Type = status === 429 ? InferenceRateLimitError : InferenceHttpError;
  return new Type(message, {
    provider: ctx.provider,
    requestId: ctx.requestId,
    attempts: ctx.attempts,
    upstreamRequestId: ctx.upstreamRequestId,
    phase: 'headers',
    status,
    retryable,
    retryAfterMs: retryAfterMs(headers, nowMs),
    upstream,
  });
}

function timeout(
  phase: FailurePhase,
  doing: string,
  ctx: FailureContext,
  base: Omit<ConstructorParameters<typeof InferenceTimeoutError>[1], 'phase' | 'retryable'>,
): InferenceTimeoutError {
  return new InferenceTimeoutError(
    `Timed out ${doing} provider "${ctx.provider}" (${phase} timeout).`,
    {
      ...base,
      phase,
      retryable: true,
    },
  );
}

/** The start of a body that is not an OpenAI-style error, redacted. */
function quote(body: string, ctx: FailureContext): string {
  return truncate(redact(body.trim(), ctx));
}

function redact(text: string, ctx: FailureContext): string {
  return redactSecrets(text, ctx.secrets);
}

/** The provider's fields with every secret removed from their text. */
function redactFields(fields: UpstreamErrorBody, ctx: FailureContext): UpstreamErrorBody {
  return Object.fromEntries(
    Object.entries(fields).map(([name, value]) => [name, redact(String(value), ctx)]),
  ) as UpstreamErrorBody;
}

/** The text as a sentence: a full stop added unless it already ends with one. */
function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
