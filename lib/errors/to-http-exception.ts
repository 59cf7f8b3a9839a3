import { HttpException, HttpStatus } from '@nestjs/common';
import {
  InferenceAbortedError,
  InferenceError,
  InferenceHttpError,
  InferenceRateLimitError,
  InferenceRequestError,
  InferenceTimeoutError,
} from './inference.error.js';

/** Upstream statuses that say the caller's request was at fault; the gateway passes them on. */
const CLIENT_FAULT_STATUSES = new Set([400, 413, 422]);

/** The HTTP status a Nest app should answer with when a call fails with this error. */
export function httpStatusOf(error: InferenceError): number {
  if (error instanceof InferenceRateLimitError) return HttpStatus.TOO_MANY_REQUESTS;
  if (error instanceof InferenceTimeoutError) return HttpStatus.GATEWAY_TIMEOUT;
  if (error instanceof InferenceRequestError) return HttpStatus.BAD_REQUEST;
  // The caller went away; the status is for logs only.
  if (error instanceof InferenceAbortedError) return HttpStatus.SERVICE_UNAVAILABLE;
  if (error.phase === 'shutdown') return HttpStatus.SERVICE_UNAVAILABLE;
  if (error instanceof InferenceHttpError && error.status !== undefined) {
    if (CLIENT_FAULT_STATUSES.has(error.status)) return error.status;
    if (error.status === 503) return HttpStatus.SERVICE_UNAVAILABLE;
    if (error.status === 504 || error.status === 408) return HttpStatus.GATEWAY_TIMEOUT;
  }
  return HttpStatus.BAD_GATEWAY;
}

/** An OpenAI-style error body, so OpenAI SDKs calling a Nest gateway understand the failure. */
export function openAiErrorBody(error: InferenceError): {
  error: { message: string; type: string; code: string; param: null; request_id: string };
} {
  return {
    error: {
      message: error.message,
      type: errorTypeOf(httpStatusOf(error)),
      code: error.code,
      param: null,
      request_id: error.requestId,
    },
  };
}

/** OpenAI's error `type` for a status, so SDKs classify the failure as they would OpenAI's. */
function errorTypeOf(status: number): string {
  if (status === 429) return 'rate_limit_error';
  if (status === 504) return 'timeout_error';
  if (status < 500) return 'invalid_request_error';
  return 'upstream_error';
}

/** Maps an inference error to a Nest `HttpException` with an OpenAI-style body (429, 502, 503, 504, 4xx). */
export function toHttpException(error: InferenceError): HttpException {
  return new HttpException(openAiErrorBody(error), httpStatusOf(error), { cause: error });
}
