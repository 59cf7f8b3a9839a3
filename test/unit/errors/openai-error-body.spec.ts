import { describe, expect, it } from 'vitest';
import {
  httpStatusOf,
  InferenceHttpError,
  InferenceRequestError,
  InferenceShutdownError,
  InferenceTimeoutError,
  openAiErrorBody,
} from '../../../lib/index.js';

const base = { provider: 'legacy', requestId: 'r-1', retryable: false } as const;

describe('openAiErrorBody', () => {
  it('keeps the internal provider’s name out of the module’s own messages', () => {
    const invalid = new InferenceRequestError(
      'No model was named, and provider "legacy" has no defaultModel. Name one in the request or set providers.legacy.defaultModel.',
      { ...base, phase: 'request' },
    );
    expect(openAiErrorBody(invalid).error.message).toBe(
      'No model was named, and the provider has no defaultModel. Name one in the request or set providers.<provider>.defaultModel.',
    );
    const timeout = new InferenceTimeoutError(
      'Timed out waiting for headers from provider "legacy" (headers timeout).',
      { ...base, phase: 'headers' },
    );
    expect(openAiErrorBody(timeout).error).toEqual({
      message: 'Timed out waiting for headers from the provider (headers timeout).',
      type: 'server_error',
      code: 'upstream_timeout',
      param: null,
      request_id: 'r-1',
    });
  });

  it('names it, and adds the provider field, with exposeProviderNames', () => {
    const timeout = new InferenceTimeoutError(
      'Timed out waiting for headers from provider "legacy" (headers timeout).',
      { ...base, phase: 'headers' },
    );
    expect(openAiErrorBody(timeout, { exposeProviderNames: true }).error).toMatchObject({
      message: 'Timed out waiting for headers from provider "legacy" (headers timeout).',
      provider: 'legacy',
    });
  });

  it('passes the provider’s words on, but not for its refusal of the gateway’s credentials', () => {
    const upstream = { message: 'Incorrect API key provided: sk-ab***', code: 'invalid_api_key' };
    const refused = new InferenceHttpError('Provider "legacy" answered 401: ...', {
      ...base,
      phase: 'headers',
      status: 401,
      upstream,
    });
    expect(httpStatusOf(refused)).toBe(502);
    const body = openAiErrorBody(refused).error;
    expect(body).toMatchObject({ type: 'server_error', code: 'upstream_unauthorized' });
    expect(body.message).not.toMatch(/Incorrect API key|legacy/);
    const notFound = new InferenceHttpError('Provider "legacy" answered 404: nope', {
      ...base,
      phase: 'headers',
      status: 404,
      upstream: {
        message: 'nope',
        type: 'invalid_request_error',
        code: 'model_not_found',
        param: 'model',
      },
    });
    expect(httpStatusOf(notFound)).toBe(404);
    expect(openAiErrorBody(notFound).error).toEqual({
      message: 'nope',
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
      request_id: 'r-1',
    });
  });

  it('answers a body that is not OpenAI-style with the module’s code and the quoted words', () => {
    const html = new InferenceHttpError('Provider "legacy" answered 404: <html>Not Found</html>', {
      ...base,
      phase: 'headers',
      status: 404,
    });
    expect(openAiErrorBody(html).error).toMatchObject({
      message: 'The provider answered 404: <html>Not Found</html>',
      type: 'invalid_request_error',
      code: 'upstream_http_error',
    });
  });

  it('maps a shutdown to a 503 the client may retry elsewhere', () => {
    const stopped = new InferenceShutdownError(
      'The application is shutting down: the call to provider "legacy" was refused. Retry on another instance.',
      { ...base, phase: 'shutdown', retryable: true },
    );
    expect(httpStatusOf(stopped)).toBe(503);
    expect(openAiErrorBody(stopped).error.message).not.toMatch(/legacy/);
  });
});
