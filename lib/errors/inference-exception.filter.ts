import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InferenceError } from './inference.error.js';
import { httpStatusOf, openAiErrorBody } from './to-http-exception.js';

/**
 * Answers a failed call with its mapped status (429, 502, 503, 504 or the caller's 4xx), an
 * OpenAI-style error body and, when the provider said when to come back, `Retry-After`.
 * Register it with `APP_FILTER` or `app.useGlobalFilters(...)`. Works on Express and Fastify.
 */
@Catch(InferenceError)
export class InferenceExceptionFilter implements ExceptionFilter<InferenceError> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: InferenceError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    if (headersAlreadySent(response)) {
      // Part of a stream was written: the status is gone, all that is left is to end it.
      httpAdapter.end(response);
      return;
    }
    const status = httpStatusOf(error);
    if (error.retryAfterMs !== undefined && (status === 429 || status === 503)) {
      httpAdapter.setHeader(response, 'Retry-After', String(Math.ceil(error.retryAfterMs / 1000)));
    }
    httpAdapter.reply(response, openAiErrorBody(error), status);
  }
}

function headersAlreadySent(response: unknown): boolean {
  const candidate = response as {
    headersSent?: boolean;
    sent?: boolean;
    raw?: { headersSent?: boolean };
  };
  return Boolean(candidate.headersSent ?? candidate.raw?.headersSent ?? candidate.sent);
}
