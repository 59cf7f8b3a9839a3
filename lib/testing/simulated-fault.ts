/**
 * A misbehaviour the simulated provider can be told to show, for one request or as a rate.
 * `afterChunks` counts content chunks sent before the fault (default: half of them, at least 1).
 */
export type SimulatedFault =
  /** Answer with this status and an OpenAI-style error body. */
  | {
      type: 'status';
      status: number;
      /** Sent as `retry-after` (seconds, or an HTTP date when a string). */
      retryAfter?: number | string;
      /** Sent as `retry-after-ms`. */
      retryAfterMs?: number;
      /** Sent as `x-should-retry`. */
      shouldRetry?: boolean;
      message?: string;
      /** The body's `error.type` (default `server_error` for 5xx, `rate_limit_error` for 429, else `invalid_request_error`). */
      errorType?: string;
      /** The body's `error.code` (default `simulated`). */
      code?: string | null;
      /** The body's `error.param` (default null). */
      param?: string | null;
    }
  /** Destroy the connection before any response byte. */
  | { type: 'reset-before-headers' }
  /** Send the headers and part of the body, then destroy the connection. */
  | { type: 'reset-mid-body'; afterChunks?: number }
  /** Never answer (until the client gives up or the provider is closed). */
  | { type: 'stall-before-headers' }
  /** Send part of the body, then go silent without closing. */
  | { type: 'stall-mid-stream'; afterChunks?: number }
  /** A 200 whose JSON body is cut short. */
  | { type: 'malformed-json' }
  /** A stream event whose data is not JSON. */
  | { type: 'malformed-sse'; afterChunks?: number }
  /** End the stream's body without `data: [DONE]`. */
  | { type: 'no-done' }
  /** Send the whole body a few bytes at a time. */
  | { type: 'slow-trickle'; bytesPerTick?: number; tickMs?: number }
  /** Put an error frame in the stream, then end it. */
  | { type: 'error-frame'; afterChunks?: number; errorType?: string; message?: string };

export type SimulatedFaultType = SimulatedFault['type'];
