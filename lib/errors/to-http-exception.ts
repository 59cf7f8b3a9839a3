import { HttpException, HttpStatus } from '@nestjs/common';
import {
  InferenceAbortedError,
  InferenceError,
  InferenceHttpError,
  InferenceRateLimitError,
  InferenceRequestError,
  InferenceTimeoutError,
} from './inference.error.js';
import { GATEWAY_ACCOUNT_STATUSES } from './fault-of.js';
import { group, oneOf, type TableOf } from '../rules/index.js';

/** How failures are shown to the gateway's own clients (module option `errors`). */
export interface InferenceErrorOptions {
  /**
   * Name the provider in client-facing error messages, and add a `provider` field to the body.
   * Default false: the names of internal providers stay in logs, metrics and `error.provider`.
   */
  exposeProviderNames?: boolean;
}

const ERROR_OPTIONS = {
  exposeProviderNames: { rule: oneOf([true, false]), default: false },
} satisfies TableOf<InferenceErrorOptions>;

/** The module option `errors`. */
export const errorOptionsRule = group(ERROR_OPTIONS);

/**
 * Injection token of the module's `errors` options, read by `InferenceExceptionFilter`;
 * `InferenceModule` provides and exports it.
 */
export const INFERENCE_ERROR_OPTIONS = Symbol('nestjs-inference:error-options');

/** An OpenAI-style error body, as OpenAI's SDKs read it. */
export interface OpenAiErrorBody {
  error: {
    message: string;
    type: string;
    code: string | null;
    param: string | null;
    request_id: string;
    /** Only with `exposeProviderNames`. */
    provider?: string;
  };
}

/**
 * The HTTP status a Nest app should answer with when a call fails with this error: the
 * provider's own 4xx about the request (400, 404, 409, 413, 422...) and its 429 are passed on;
 * its refusal of the gateway's own account (`GATEWAY_ACCOUNT_STATUSES`: 401, 402, 403, 407) is a
 * 502, without the provider's words, which may quote the key or the account; 503 stays 503; 408,
 * 504 and every timeout are 504; other failures are 502.
 */
export function httpStatusOf(error: InferenceError): number {
  if (error instanceof InferenceRateLimitError) return HttpStatus.TOO_MANY_REQUESTS;
  if (error instanceof InferenceTimeoutError) return HttpStatus.GATEWAY_TIMEOUT;
  if (error instanceof InferenceRequestError) return HttpStatus.BAD_REQUEST;
  // The caller went away; the status is for logs only.
  if (error instanceof InferenceAbortedError) return HttpStatus.SERVICE_UNAVAILABLE;
  if (error.phase === 'shutdown') return HttpStatus.SERVICE_UNAVAILABLE;
  const status = error instanceof InferenceHttpError ? error.status : undefined;
  if (status !== undefined) {
    if (status === 408 || status === 504) return HttpStatus.GATEWAY_TIMEOUT;
    if (status === 503) return HttpStatus.SERVICE_UNAVAILABLE;
    if (status >= 400 && status < 500 && !GATEWAY_ACCOUNT_STATUSES.has(status)) return status;
  }
  return HttpStatus.BAD_GATEWAY;
}

/**
 * The OpenAI-style body for a failed call, so OpenAI SDKs calling a Nest gateway understand it.
 * When the provider answered with an OpenAI-style error, its `message`, `type`, `code` and
 * `param` are passed on as it sent them (redacted of the API key); otherwise the module's own
 * `code`, with a message that names no provider unless `exposeProviderNames` is set.
 */
export function openAiErrorBody(
  error: InferenceError,
  options: InferenceErrorOptions = {},
): OpenAiErrorBody {
  const status = httpStatusOf(error);
  const expose = options.exposeProviderNames === true;
  const accountProblem =
    error instanceof InferenceHttpError &&
    error.status !== undefined &&
    GATEWAY_ACCOUNT_STATUSES.has(error.status);
  const upstream =
    error instanceof InferenceHttpError && !accountProblem ? error.upstream : undefined;
  const ownMessage = accountProblem
    ? `The upstream provider${expose ? ` "${error.provider}"` : ''} refused this gateway's own credentials (${error.status}). The request itself was not at fault; the gateway's operators have to fix its configuration.`
    : expose
      ? error.message
      : withoutProviderName(error.message, error.provider);
  return {
    error: {
      message: upstream?.message ?? ownMessage,
      type: upstream?.type ?? errorTypeOf(status),
      code: upstream
        ? (upstream.code ?? null)
        : accountProblem
          ? 'upstream_unauthorized'
          : error.code,
      param: upstream?.param ?? null,
      request_id: error.requestId,
      ...(expose ? { provider: error.provider } : {}),
    },
  };
}

/** OpenAI's error `type` for a status, so SDKs classify the failure as they would OpenAI's. */
function errorTypeOf(status: number): string {
  if (status === 429) return 'rate_limit_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status < 500) return 'invalid_request_error';
  return 'server_error';
}

/**
 * The module's own message without the provider's name: `provider "legacy"` becomes `the
 * provider`, and option paths such as `providers.legacy.defaultModel` lose the name.
 */
function withoutProviderName(message: string, provider: string): string {
  const name = provider.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return message
    .replace(new RegExp(`\\b([Pp])rovider "${name}"`, 'g'), (_, p: string) =>
      p === 'P' ? 'The provider' : 'the provider',
    )
    .replace(new RegExp(`"${name}"`, 'g'), 'the provider')
    .replace(new RegExp(`\\.${name}\\b`, 'g'), '.<provider>');
}

/**
 * Maps an inference error to a Nest `HttpException` with the same OpenAI-style body and status as
 * `InferenceExceptionFilter` (which also sends `Retry-After` and `x-should-retry`; an
 * `HttpException` carries no headers).
 */
export function toHttpException(
  error: InferenceError,
  options: InferenceErrorOptions = {},
): HttpException {
  return new HttpException(openAiErrorBody(error, options), httpStatusOf(error), { cause: error });
}
