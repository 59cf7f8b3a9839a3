import { Catch, Inject, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InferenceError } from './inference.error.js';
import {
  httpStatusOf,
  INFERENCE_ERROR_OPTIONS,
  openAiErrorBody,
  type InferenceErrorOptions,
} from './to-http-exception.js';

/**
 * Answers a failed call with its mapped status (the provider's own 4xx and 429, or 502, 503,
 * 504), an OpenAI-style error body (`openAiErrorBody`) and these headers:
 * - `x-should-retry: false`: the module already made its retries, or judged the failure not worth
 *   one, so a client (the openai SDK honours it) does not repeat them all. Not on the 503 of a
 *   call stopped by the app's shutdown, which another replica will answer.
 * - `Retry-After`, on a 429 or 503 when the provider said when to come back.
 *
 * Register it with `APP_FILTER` (it reads the module's `errors` options) or
 * `app.useGlobalFilters(new InferenceExceptionFilter(adapterHost, { exposeProviderNames }))`.
 * Works on Express and Fastify. A client that is gone gets nothing.
 */
@Catch(InferenceError)
export class InferenceExceptionFilter implements ExceptionFilter<InferenceError> {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional()
    @Inject(INFERENCE_ERROR_OPTIONS)
    private readonly options: InferenceErrorOptions = {},
  ) {}

  catch(error: InferenceError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    if (clientGone(response)) return; // nobody is there to read an answer
    if (headersAlreadySent(response)) {
      // Part of a stream was written: the status is gone, all that is left is to end it.
      httpAdapter.end(response);
      return;
    }
    const status = httpStatusOf(error);
    if (error.phase !== 'shutdown') httpAdapter.setHeader(response, 'x-should-retry', 'false');
    if (error.retryAfterMs !== undefined && (status === 429 || status === 503)) {
      httpAdapter.setHeader(response, 'Retry-After', String(Math.ceil(error.retryAfterMs / 1000)));
    }
    httpAdapter.reply(response, openAiErrorBody(error, this.options ?? {}), status);
  }
}

interface AdapterResponse {
  headersSent?: boolean;
  destroyed?: boolean;
  /** Fastify's reply: sent, or hijacked. */
  sent?: boolean;
  /** Fastify's reply wraps Node's response; Express's is Node's own. */
  raw?: { headersSent?: boolean; destroyed?: boolean };
}

function headersAlreadySent(response: unknown): boolean {
  const candidate = response as AdapterResponse;
  return Boolean(candidate.headersSent ?? candidate.raw?.headersSent ?? candidate.sent);
}

function clientGone(response: unknown): boolean {
  const candidate = response as AdapterResponse;
  return Boolean(candidate.raw?.destroyed ?? candidate.destroyed);
}
