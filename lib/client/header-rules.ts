import { validateHeaderName, validateHeaderValue } from 'node:http';

/**
 * Headers the provider client sets itself on every upstream request. Neither the provider's
 * `headers` option nor a call's `headers` may set them (the option is refused at startup; a call's
 * are dropped).
 */
export const OWNED_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'accept',
  'x-request-id',
]);

/** Header names whose values are credentials wherever they appear (Azure, Anthropic and gateways use them). */
export const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'api-key',
  'x-api-key',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
]);

/**
 * Why a header cannot be sent as it is (a name that is not an HTTP token, a value with line
 * breaks or control characters), or undefined when it can. Node's own checks, the same that
 * undici applies when the request is made.
 */
export function headerProblem(name: string, value: unknown): string | undefined {
  try {
    validateHeaderName(name);
  } catch {
    return `the header name ${JSON.stringify(name.slice(0, 64))} is not a valid HTTP token`;
  }
  if (typeof value !== 'string') return `header "${name}" must have a string value`;
  try {
    validateHeaderValue(name, value);
  } catch {
    return `header "${name}" has a value with line breaks or control characters`;
  }
  return undefined;
}
