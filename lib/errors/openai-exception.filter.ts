import { Catch, Logger, type ArgumentsHost, type HttpException } from '@nestjs/common';
import { InferenceExceptionFilter } from './inference-exception.filter.js';
import { InferenceError } from './inference.error.js';
import type { OpenAiErrorBody } from './to-http-exception.js';

/** OpenAI's `type` and a `code` for the statuses a gateway answers itself. */
const OWN_ERRORS: Readonly<Record<number, readonly [type: string, code: string]>> = {
  400: ['invalid_request_error', 'invalid_request'],
  401: ['authentication_error', 'invalid_api_key'],
  403: ['permission_error', 'forbidden'],
  404: ['invalid_request_error', 'not_found'],
  405: ['invalid_request_error', 'method_not_allowed'],
  408: ['invalid_request_error', 'request_timeout'],
  409: ['invalid_request_error', 'conflict'],
  413: ['invalid_request_error', 'request_too_large'],
  415: ['invalid_request_error', 'unsupported_media_type'],
  422: ['invalid_request_error', 'unprocessable_entity'],
  429: ['rate_limit_error', 'rate_limit_exceeded'],
  431: ['invalid_request_error', 'headers_too_large'],
};

/**
 * `InferenceExceptionFilter` for every error an OpenAI-compatible gateway answers, its own
 * included: failed calls as that filter answers them; `HttpException`s (a guard's 401, Nest's 404
 * for an unknown route, a validation 400) and the body parsers' refusals (invalid JSON, a body
 * over the limit, an unsupported media type, on Express and Fastify) in OpenAI's error shape with
 * the right `type`, so OpenAI's SDKs read them; anything else as a logged 500 that reveals
 * nothing. An exception body the app shaped itself (a Terminus health report) is sent as it is. An `HttpException` whose body is already `{ error: { message, ... } }` is sent as it
 * is. Register it with `APP_FILTER` in place of `InferenceExceptionFilter`.
 */
@Catch()
export class OpenAiExceptionFilter extends InferenceExceptionFilter {
  readonly #logger = new Logger('OpenAiExceptionFilter');

  override catch(error: unknown, host: ArgumentsHost): void {
    if (error instanceof InferenceError || host.getType() !== 'http') {
      super.catch(error as InferenceError, host);
      return;
    }
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    const status = statusOf(error);
    // An HttpException is the app's own answer; anything else unexpected is logged.
    if (status >= 500 && !isHttpException(error)) {
      this.#logger.error(error instanceof Error ? error.stack : String(error));
    }
    if (!this.answerable(response)) return;
    const given = isHttpException(error) ? error.getResponse() : undefined;
    // A body of the app's own making (a health check's report) is not Nest's default: left as is.
    const body = isOwnBody(given) ? given : bodyOf(error, status, requestIdOf(response));
    httpAdapter.reply(response, body, status);
  }
}

/** The status of an `HttpException`, or of a body parser's error (`status` / `statusCode`). */
function statusOf(error: unknown): number {
  if (isHttpException(error)) return error.getStatus();
  const candidate = error as { status?: unknown; statusCode?: unknown } | null;
  const status = candidate?.statusCode ?? candidate?.status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

function bodyOf(error: unknown, status: number, requestId: string): OpenAiErrorBody {
  const given = isHttpException(error) ? error.getResponse() : undefined;
  const own = (given as { error?: { message?: unknown } } | undefined)?.error;
  if (typeof own === 'object' && own !== null && typeof own.message === 'string') {
    return {
      error: { param: null, code: null, ...(own as object), request_id: requestId },
    } as OpenAiErrorBody;
  }
  const [type, code] = OWN_ERRORS[status] ?? ['server_error', 'server_error'];
  return {
    error: {
      message: status >= 500 ? 'The gateway failed to answer.' : messageOf(error, given),
      type,
      code,
      param: null,
      request_id: requestId,
    },
  };
}

/** The exception's own words: Nest's `message` (a string or a validation list), or the error's. */
function messageOf(error: unknown, given: unknown): string {
  const message =
    typeof given === 'string'
      ? given
      : ((given as { message?: unknown } | undefined)?.message ?? (error as Error).message);
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' && message !== '' ? message : 'The request was refused.';
}

/**
 * By shape, as Nest's own exception handler does: an application may load `@nestjs/common`
 * twice (a bundled copy, CommonJS beside ESM), and `instanceof` fails across copies.
 */
function isHttpException(error: unknown): error is HttpException {
  const candidate = error as Partial<HttpException> | null;
  return typeof candidate?.getStatus === 'function' && typeof candidate.getResponse === 'function';
}

/** An exception body the app shaped itself: an object that is neither Nest's default nor OpenAI's. */
function isOwnBody(given: unknown): boolean {
  if (typeof given !== 'object' || given === null) return false;
  const record = given as Record<string, unknown>;
  if ('statusCode' in record && 'message' in record) return false; // Nest's own shape
  return !(typeof record.error === 'object' && record.error !== null); // OpenAI's: request id added
}

function requestIdOf(response: unknown): string {
  const raw = (response as { raw?: unknown }).raw ?? response;
  const value = (raw as { getHeader?(name: string): unknown }).getHeader?.('x-request-id');
  return typeof value === 'string' ? value : '';
}
