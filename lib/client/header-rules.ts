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
