/** Where in an upstream call a failure happened. */
export type FailurePhase =
  | 'request' // the call was invalid before anything was sent
  | 'connect' // opening the connection to the provider
  | 'headers' // waiting for, or judging, the response status and headers
  | 'first-chunk' // a stream waiting for its first chunk
  | 'body' // reading the response body
  | 'idle' // too long without a byte between body chunks
  | 'deadline' // the call's total time budget ran out
  | 'aborted' // the caller cancelled
  | 'shutdown'; // the application is draining

/**
 * The provider's own words from an OpenAI-style error body (`{"error":{...}}`), kept as sent (the
 * message redacted of secrets), so a gateway can pass them on to its clients.
 */
export interface UpstreamErrorBody {
  message?: string;
  type?: string;
  code?: string;
  param?: string;
}

export interface InferenceErrorDetails {
  provider: string;
  requestId: string;
  phase: FailurePhase;
  retryable: boolean;
  /** The upstream HTTP status, when the provider answered with one. */
  status?: number;
  /** The provider's own id for the request (its `x-request-id`), when it sent one. */
  upstreamRequestId?: string;
  /** Attempts made, retries included. */
  attempts?: number;
  /** A delay the provider asked for before a retry, in milliseconds. */
  retryAfterMs?: number;
  /** The provider's error body fields, when it answered with an OpenAI-style error. */
  upstream?: UpstreamErrorBody;
  cause?: unknown;
}

/**
 * The base of every error the module raises for a call. Messages never carry the API key: they
 * are built from our own words, and provider text is redacted before it is quoted.
 */
export abstract class InferenceError extends Error {
  abstract readonly code: string;
  readonly provider: string;
  readonly requestId: string;
  readonly phase: FailurePhase;
  readonly retryable: boolean;
  readonly status?: number;
  readonly upstreamRequestId?: string;
  attempts: number;
  readonly retryAfterMs?: number;
  readonly upstream?: UpstreamErrorBody;

  constructor(message: string, details: InferenceErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.provider = details.provider;
    this.requestId = details.requestId;
    this.phase = details.phase;
    this.retryable = details.retryable;
    this.status = details.status;
    this.upstreamRequestId = details.upstreamRequestId;
    this.attempts = details.attempts ?? 1;
    this.retryAfterMs = details.retryAfterMs;
    this.upstream = details.upstream;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      provider: this.provider,
      requestId: this.requestId,
      phase: this.phase,
      retryable: this.retryable,
      status: this.status,
      upstreamRequestId: this.upstreamRequestId,
      attempts: this.attempts,
      retryAfterMs: this.retryAfterMs,
      upstream: this.upstream,
    };
  }
}

/** The provider answered with an HTTP error status. */
export class InferenceHttpError extends InferenceError {
  readonly code: string = 'upstream_http_error';
}

/** The provider answered 429: too many requests or tokens. */
export class InferenceRateLimitError extends InferenceHttpError {
  override readonly code = 'upstream_rate_limited';
}

/** The connection could not be opened, or broke before the response was complete. */
export class InferenceConnectionError extends InferenceError {
  readonly code = 'upstream_connection_error';
}

/** A time budget ran out: see `phase` for which (connect, headers, idle or deadline). */
export class InferenceTimeoutError extends InferenceError {
  readonly code = 'upstream_timeout';
}

/** The provider's response could not be understood (malformed JSON or SSE). */
export class InferenceProtocolError extends InferenceError {
  readonly code = 'upstream_protocol_error';
}

/** The provider sent an error frame inside a stream. */
export class InferenceStreamError extends InferenceError {
  readonly code = 'upstream_stream_error';
}

/** The stream's body ended without `[DONE]`: the answer may be cut short, so it is never a success. */
export class InferenceIncompleteStreamError extends InferenceError {
  readonly code = 'upstream_stream_incomplete';
}

/** The caller cancelled the call (unsubscribed, or aborted its signal). */
export class InferenceAbortedError extends InferenceError {
  readonly code = 'aborted';
}

/** The call was invalid before it was sent (for example, no model was named and none is configured). */
export class InferenceRequestError extends InferenceError {
  readonly code = 'invalid_request';
}

/**
 * The application is shutting down: new work that is not part of an in-flight request is refused,
 * and calls still running when the drain deadline is reached are stopped. Retryable, on another
 * replica; answered as 503 with `Retry-After`.
 */
export class InferenceShutdownError extends InferenceError {
  readonly code = 'shutting_down';
}
