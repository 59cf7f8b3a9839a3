import { Pool, type Dispatcher } from 'undici';
import type { InferenceError } from '../errors/index.js';
import type { Attempt } from './attempt-scope.js';
import { CallScope } from './call-scope.js';
import type { CancelSource } from './cancel-source.js';
import { classifyFailure, statusFailure, type FailureContext } from './classify-failure.js';
import type { Clock } from './clock.js';
import { buildTimedConnector } from './connector.js';
import { OWNED_HEADERS } from './header-rules.js';
import type {
  CallTimeoutOptions,
  ResolvedProviderOptions,
  TimeoutOptions,
} from './provider-options.js';
import { readBodyStart } from './response-body.js';
import type { UpstreamCall } from './upstream-call.js';
import { RetryPolicy } from './retry.policy.js';

/** The most of an error body read to quote the provider's reason; the rest is discarded. */
const ERROR_BODY_LIMIT = 16 * 1024;
const USER_AGENT = 'nestjs-inference';

/** The OpenAI-compatible operations a provider serves. */
export type Endpoint = 'chat' | 'embeddings';

/**
 * One provider's wire: a keep-alive undici pool to its origin, the headers every request
 * carries (built once: undici checks each per request), and the typing of what goes wrong.
 * Responses with an error status are read (their start quoted, the rest discarded so the socket
 * is reused) and turned into typed errors here.
 */
export class ProviderTransport {
  readonly name: string;
  readonly #pool: Pool;
  readonly #paths: Readonly<Record<Endpoint, string>>;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #streamHeaders: Readonly<Record<string, string>>;
  readonly #probeHeaders: Readonly<Record<string, string>>;
  readonly #retry: RetryPolicy;
  /** Every secret value this provider's requests carry: redacted from anything quoted. */
  readonly #secrets: readonly string[];

  constructor(
    readonly options: ResolvedProviderOptions,
    readonly clock: Clock,
    private readonly random: () => number,
  ) {
    this.name = options.name;
    this.#paths = {
      chat: `${options.basePath}/chat/completions`,
      embeddings: `${options.basePath}/embeddings`,
    };
    this.#pool = new Pool(options.origin, {
      connections: options.pool.connections,
      keepAliveTimeout: options.pool.keepAliveTimeoutMs,
      connect: buildTimedConnector(options.timeouts.connectMs, clock),
    });
    const apiKey = options.apiKey.reveal();
    const secretHeaders = Object.fromEntries(
      [...options.secretHeaders].map(([name, secret]) => [name, secret.reveal()]),
    );
    this.#secrets = [apiKey, ...Object.values(secretHeaders)];
    this.#headers = {
      ...options.headers,
      ...secretHeaders,
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'user-agent': options.headers['user-agent'] ?? USER_AGENT,
    };
    this.#streamHeaders = { ...this.#headers, accept: 'text/event-stream' };
    const { 'content-type': _json, ...probeHeaders } = this.#headers;
    this.#probeHeaders = { ...probeHeaders, accept: 'application/json' };
    this.#retry = new RetryPolicy(options.retry, random);
  }

  get stats(): Pool['stats'] {
    return this.#pool.stats;
  }

  /**
   * A call's scope on this provider: its budgets (the provider's, with the call's overrides), the
   * signals that cancel it, and the deadline (on the module's clock) it must end by whatever
   * `totalMs` says.
   */
  scope(
    timeouts: CallTimeoutOptions | undefined,
    signals: readonly (CancelSource | undefined)[],
    deadline?: number,
  ): CallScope {
    const budgets: TimeoutOptions = timeouts
      ? { ...this.options.timeouts, ...timeouts }
      : this.options.timeouts;
    return new CallScope(this.clock, budgets, signals, deadline);
  }

  /** The retry policy of a call: the provider's, or with the call's own `maxRetries`. */
  retryPolicy(maxRetries: number | undefined): RetryPolicy {
    return maxRetries === undefined
      ? this.#retry
      : new RetryPolicy({ ...this.options.retry, maxRetries }, this.random);
  }

  /** Sends one attempt and returns the response once its status is a success. */
  async send(
    endpoint: Endpoint,
    body: string,
    stream: boolean,
    call: UpstreamCall,
    attempt: Attempt,
  ): Promise<Dispatcher.ResponseData> {
    const headers = stream ? this.#streamHeaders : this.#headers;
    attempt.scope.armHeaders(stream);
    const response = await this.#pool
      .request({
        method: 'POST',
        path: this.#paths[endpoint],
        headers: call.headers
          ? { ...callHeaders(call.headers), ...headers, 'x-request-id': call.requestId }
          : { ...headers, 'x-request-id': call.requestId },
        body,
        signal: attempt.scope,
        // The attempt's own timers enforce these, precisely; undici's tick every 500 ms.
        headersTimeout: 0,
        bodyTimeout: 0,
      })
      .finally(() => attempt.scope.disarm());
    const upstreamId = response.headers['x-request-id'];
    attempt.upstreamRequestId = Array.isArray(upstreamId) ? upstreamId[0] : upstreamId;
    attempt.rateLimit = rateLimitOf(response.headers);
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    throw await this.#statusFailure(response, call.scope, call.requestId, attempt);
  }

  /** `GET {basePath}/models`: spends no tokens. Resolves once the status is a success. */
  async probe(scope: CallScope, requestId: string, attempt: Attempt): Promise<void> {
    const response = await this.#pool.request({
      method: 'GET',
      path: `${this.options.basePath}/models`,
      headers: this.#probeHeaders,
      signal: attempt.scope,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    if (response.statusCode < 300) {
      response.body.resume(); // read and dropped: the socket goes back to the pool
      return;
    }
    throw await this.#statusFailure(response, scope, requestId, attempt);
  }

  /** Types whatever an attempt threw, once. */
  classify(thrown: unknown, scope: CallScope, requestId: string, attempt: Attempt): InferenceError {
    return classifyFailure(thrown, this.#failureContext(scope, requestId, attempt));
  }

  /** Waits for running requests, then closes every socket. */
  close(): Promise<void> {
    return this.#pool.close();
  }

  /** Closes every socket now, failing whatever is still running. */
  destroy(): Promise<void> {
    return this.#pool.destroy();
  }

  /** The error for a response with an error status, its body's start quoted (under the idle budget). */
  async #statusFailure(
    response: Dispatcher.ResponseData,
    scope: CallScope,
    requestId: string,
    attempt: Attempt,
  ): Promise<InferenceError> {
    const text = await readBodyStart(response.body, attempt.scope, ERROR_BODY_LIMIT).catch(
      () => '',
    );
    return statusFailure(
      response.statusCode,
      response.headers,
      text,
      this.clock.now(),
      this.#failureContext(scope, requestId, attempt),
    );
  }

  #failureContext(scope: CallScope, requestId: string, attempt: Attempt): FailureContext {
    return {
      provider: this.name,
      requestId,
      scope,
      timedOut: attempt.scope.timedOut,
      phase: attempt.phase,
      attempts: attempt.number,
      upstreamRequestId: attempt.upstreamRequestId,
      secrets: this.#secrets,
    };
  }
}

/** The provider's rate-limit headers (`x-ratelimit-remaining-requests`...), when it sent any. */
function rateLimitOf(
  headers: Dispatcher.ResponseData['headers'],
): Record<string, string> | undefined {
  let found: Record<string, string> | undefined;
  for (const name in headers) {
    if (!name.startsWith('x-ratelimit-')) continue;
    const value = headers[name];
    (found ??= {})[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return found;
}

/** A call's extra headers, names lowercased, without those the client owns. */
function callHeaders(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!OWNED_HEADERS.has(lower)) result[lower] = value;
  }
  return result;
}
