import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InferenceOptionsError, inferenceOptionsSchema } from '../../../lib/index.js';
import { defaultShutdown } from '../../../lib/lifecycle/shutdown-options.js';
import { resolveInferenceOptions } from '../../../lib/options/resolve-options.js';

const KEY = 'sk-live-abcdef0123456789';
const good = (provider: Record<string, unknown> = {}, top: Record<string, unknown> = {}) => ({
  providers: { next: { baseUrl: 'https://api.example.com/v1', apiKey: KEY, ...provider } },
  ...top,
});

/** [what is wrong, options, a fragment the message must contain (field path and remedy)] */
const badConfigs: [string, unknown, RegExp][] = [
  ['options are not an object', 'nope', /The module options must be an object/],
  ['no providers field', {}, /providers is missing\. Add at least one/],
  ['empty providers map', { providers: {} }, /providers has no providers/],
  [
    'provider is not an object',
    { providers: { next: 'https://x' } },
    /providers\.next must be an object/,
  ],
  [
    'missing apiKey',
    good({ apiKey: undefined }),
    /providers\.next\.apiKey is missing\. Set it to the provider's API key/,
  ],
  ['blank apiKey', good({ apiKey: '   ' }), /providers\.next\.apiKey is empty\. .*NEXT_API_KEY/],
  ['apiKey not a string', good({ apiKey: 42 }), /providers\.next\.apiKey must be a string/],
  ['missing baseUrl', good({ baseUrl: undefined }), /providers\.next\.baseUrl is missing/],
  [
    'malformed baseUrl',
    good({ baseUrl: 'api.example.com/v1' }),
    /providers\.next\.baseUrl is not a valid URL/,
  ],
  [
    'non-http baseUrl',
    good({ baseUrl: 'ftp://api.example.com' }),
    /providers\.next\.baseUrl uses 'ftp:'.*http:\/\/ or https:\/\//,
  ],
  [
    'credentials in baseUrl',
    good({ baseUrl: 'https://user:pw@api.example.com' }),
    /providers\.next\.baseUrl carries credentials/,
  ],
  [
    'query in baseUrl',
    good({ baseUrl: 'https://api.example.com/v1?key=1' }),
    /providers\.next\.baseUrl has a query string/,
  ],
  [
    'negative timeout',
    good({ timeouts: { idleMs: -5 } }),
    /providers\.next\.timeouts\.idleMs must be a positive integer.*got -5/,
  ],
  [
    'zero timeout',
    good({ timeouts: { connectMs: 0 } }),
    /providers\.next\.timeouts\.connectMs must be a positive integer.*got 0/,
  ],
  [
    'timeout as a string',
    good({ timeouts: { totalMs: '30s' } }),
    /providers\.next\.timeouts\.totalMs .*got the string '30s'/,
  ],
  [
    'headersMs above totalMs',
    good({ timeouts: { headersMs: 9000, totalMs: 5000 } }),
    /providers\.next\.timeouts\.headersMs \(9000 ms\) is longer than providers\.next\.timeouts\.totalMs \(5000 ms\)/,
  ],
  [
    'huge timeout',
    good({ timeouts: { totalMs: 1e12 } }),
    /providers\.next\.timeouts\.totalMs is 1000000000000, above the limit/,
  ],
  // Above 2^31 - 1 ms, Node fires a timer after 1 ms: every duration has an upper bound.
  [
    'first-chunk timeout beyond Node timers',
    good({ timeouts: { firstChunkMs: 2 ** 31 } }),
    /providers\.next\.timeouts\.firstChunkMs is 2147483648, above the limit/,
  ],
  [
    'retry delay beyond Node timers',
    good({ retry: { maxDelayMs: 2 ** 31 } }),
    /providers\.next\.retry\.maxDelayMs is 2147483648, above the limit/,
  ],
  [
    'negative maxRetries',
    good({ retry: { maxRetries: -1 } }),
    /providers\.next\.retry\.maxRetries must be an integer ≥ 0/,
  ],
  [
    'too many retries',
    good({ retry: { maxRetries: 50 } }),
    /providers\.next\.retry\.maxRetries is 50, above the limit of 10/,
  ],
  [
    'fractional retries',
    good({ retry: { maxRetries: 1.5 } }),
    /providers\.next\.retry\.maxRetries must be an integer/,
  ],
  [
    'baseDelayMs above maxDelayMs',
    good({ retry: { baseDelayMs: 500, maxDelayMs: 100 } }),
    /providers\.next\.retry\.baseDelayMs \(500 ms\) is above providers\.next\.retry\.maxDelayMs/,
  ],
  [
    'zero connections',
    good({ pool: { connections: 0 } }),
    /providers\.next\.pool\.connections must be a positive integer/,
  ],
  [
    'unknown provider field',
    good({ timeout: 5000 }),
    /providers\.next\.timeout is not a known option\. Known options here: baseUrl, apiKey/,
  ],
  [
    'misspelt timeout field',
    good({ timeouts: { totalMS: 5000 } }),
    /providers\.next\.timeouts\.totalMS is not a known option.*totalMs/,
  ],
  [
    'reserved header',
    good({ headers: { Authorization: 'Bearer x' } }),
    /providers\.next\.headers\.Authorization cannot be set here/,
  ],
  [
    'header with a line break',
    good({ headers: { 'x-team': 'a\r\nb' } }),
    /providers\.next\.headers\.x-team must be a valid HTTP header: a token name and a string value without line breaks/,
  ],
  ['blank defaultModel', good({ defaultModel: '' }), /providers\.next\.defaultModel is empty/],
  [
    'unknown defaultProvider',
    good({}, { defaultProvider: 'legacy' }),
    /defaultProvider is 'legacy', which is not a configured provider\. Use one of: next/,
  ],
  [
    'bad provider name',
    { providers: { 'my provider': { baseUrl: 'https://a.example', apiKey: KEY } } },
    /providers\.my provider is not a usable provider name/,
  ],
  [
    'unknown top-level option',
    good({}, { provider: {} }),
    /^ {2}- provider is not a known option/m,
  ],
  ['random not a function', good({}, { random: 0.5 }), /random must be a function/],
  ['shutdown not an object', good({}, { shutdown: 30 }), /shutdown must be an object/],
  [
    'zero drainTimeoutMs',
    good({}, { shutdown: { drainTimeoutMs: 0 } }),
    /shutdown\.drainTimeoutMs must be a positive integer number of milliseconds, got 0/,
  ],
  [
    'drainTimeoutMs beyond Node timers',
    good({}, { shutdown: { drainTimeoutMs: 2 ** 31 } }),
    /shutdown\.drainTimeoutMs is 2147483648, above the limit/,
  ],
  [
    'readinessDelayMs beyond Node timers',
    good({}, { shutdown: { readinessDelayMs: 2 ** 31 } }),
    /shutdown\.readinessDelayMs is 2147483648, above the limit/,
  ],
  [
    'negative readinessDelayMs',
    good({}, { shutdown: { readinessDelayMs: -1 } }),
    /shutdown\.readinessDelayMs must be an integer ≥ 0, got -1/,
  ],
  [
    'readinessDelayMs as a string',
    good({}, { shutdown: { readinessDelayMs: '5s' } }),
    /shutdown\.readinessDelayMs must be an integer ≥ 0, got the string '5s'/,
  ],
  [
    'unknown secondSignal',
    good({}, { shutdown: { secondSignal: 'kill' } }),
    /shutdown\.secondSignal is the string 'kill'\. Use one of: force, ignore/,
  ],
  [
    'keepAliveTimeoutMs below a second',
    good({}, { shutdown: { keepAliveTimeoutMs: 500 } }),
    /shutdown\.keepAliveTimeoutMs must be an integer number of milliseconds ≥ 1000 \(clients get the keep-alive timeout in whole seconds\), got 500/,
  ],
  [
    'keepAliveTimeoutMs not an integer',
    good({}, { shutdown: { keepAliveTimeoutMs: 4_000.5 } }),
    /shutdown\.keepAliveTimeoutMs must be a positive integer number of milliseconds, got 4000\.5/,
  ],
  [
    'unknown idleConnections',
    good({}, { shutdown: { idleConnections: 'destroy' } }),
    /shutdown\.idleConnections is the string 'destroy'\. Use one of: expire, close/,
  ],
  [
    'exit code out of range',
    good({}, { shutdown: { abandonedExitCode: 300 } }),
    /shutdown\.abandonedExitCode must be an integer exit code from 1 to 125, got 300/,
  ],
  [
    'negative price',
    good({ prices: { 'gpt-4.1': { input: -1, output: 8 } } }),
    /providers\.next\.prices\.gpt-4\.1\.input must be a number of US dollars per million tokens, 0 or more, got -1/,
  ],
  [
    'price without output',
    good({ prices: { 'gpt-4.1': { input: 2 } } }),
    /providers\.next\.prices\.gpt-4\.1\.output must be a number of US dollars per million tokens/,
  ],
  [
    'logical model mapped to an unknown provider',
    good({}, { models: { chat: { nxt: 'gpt-4.1' } } }),
    /models\.chat\.nxt is not a known option\. Known options here: next/,
  ],
  [
    'logical model mapped to an empty name',
    good({}, { models: { chat: { next: ' ' } } }),
    /models\.chat\.next must be a non-empty model name/,
  ],
  [
    'telemetry provider without getMeter',
    good({}, { telemetry: { meterProvider: {} } }),
    /telemetry\.meterProvider must be an OpenTelemetry provider with a getMeter\(\) method/,
  ],
  [
    'unknown shutdown option',
    good({}, { shutdown: { drainTimeout: 30_000 } }),
    /shutdown\.drainTimeout is not a known option\. Known options here: readinessDelayMs, drainTimeoutMs/,
  ],
];

describe('resolveInferenceOptions', () => {
  it.each(badConfigs)('rejects %s, naming the field', (_what, options, message) => {
    expect(() => resolveInferenceOptions(options)).toThrow(InferenceOptionsError);
    expect(() => resolveInferenceOptions(options)).toThrow(message);
  });

  it('gives each bad configuration its own message', () => {
    const messages = badConfigs.map(([, options]) => {
      try {
        resolveInferenceOptions(options);
        return 'accepted';
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(new Set(messages).size).toBe(badConfigs.length);
  });

  it('fills in shutdown defaults: no readiness delay under a test runner, 30 s drain', () => {
    expect(resolveInferenceOptions(good()).shutdown).toEqual({
      readinessDelayMs: 0,
      drainTimeoutMs: 30_000,
      abandonGraceMs: 1_000,
      secondSignal: 'force',
      abandonedExitCode: 75,
      retryAfterMs: 1_000,
      keepAliveTimeoutMs: 4_000,
      idleConnections: 'close',
    });
    expect(defaultShutdown({ NODE_ENV: 'production' })).toMatchObject({
      readinessDelayMs: 5_000,
      idleConnections: 'expire',
    });
    // Node keeps an idle socket 1 s past the timeout it advertises: gone within the delay.
    const { keepAliveTimeoutMs, readinessDelayMs } = defaultShutdown({ NODE_ENV: 'production' });
    expect(keepAliveTimeoutMs + 1_000).toBeLessThanOrEqual(readinessDelayMs);
    const custom = resolveInferenceOptions(
      good(
        {},
        {
          shutdown: {
            readinessDelayMs: 2_000,
            secondSignal: 'ignore',
            keepAliveTimeoutMs: 65_000,
            idleConnections: 'expire',
          },
        },
      ),
    ).shutdown;
    expect(custom).toMatchObject({
      readinessDelayMs: 2_000,
      secondSignal: 'ignore',
      keepAliveTimeoutMs: 65_000,
      idleConnections: 'expire',
    });
  });

  it('lists every problem at once', () => {
    const error = catchError(() =>
      resolveInferenceOptions(good({ apiKey: '', baseUrl: 'nope', timeouts: { idleMs: 0 } })),
    ) as InferenceOptionsError;
    expect(error.problems).toHaveLength(3);
  });

  it('requires defaultProvider when there are several providers', () => {
    const options = {
      providers: {
        legacy: { baseUrl: 'https://a.example', apiKey: KEY },
        next: { baseUrl: 'https://b.example', apiKey: KEY },
      },
    };
    expect(() => resolveInferenceOptions(options)).toThrow(
      /defaultProvider is missing and there are several providers \(legacy, next\)/,
    );
    expect(resolveInferenceOptions({ ...options, defaultProvider: 'next' }).defaultProvider).toBe(
      'next',
    );
  });

  it('fills in defaults and splits the URL into origin and path', () => {
    const resolved = resolveInferenceOptions(good({ baseUrl: 'https://api.example.com:8443/v1/' }));
    const next = resolved.providers.get('next')!;
    expect(resolved.defaultProvider).toBe('next');
    expect(next.origin).toBe('https://api.example.com:8443');
    expect(next.basePath).toBe('/v1');
    expect(next.timeouts).toEqual({
      connectMs: 5000,
      headersMs: 0,
      firstChunkMs: 60000,
      idleMs: 30000,
      totalMs: 120000,
    });
    expect(next.retry).toEqual({
      maxRetries: 2,
      baseDelayMs: 250,
      maxDelayMs: 8000,
      afterTimeout: false,
    });
    expect(next.streamUsage).toBe(true);
    expect(next.maxResponseBytes).toBe(10 * 1024 * 1024);
    expect(next.pool).toEqual({ connections: 128, keepAliveTimeoutMs: 4000 });
  });

  it('lowers defaults to fit a smaller totalMs or maxDelayMs, but never a value that was set', () => {
    const next = resolveInferenceOptions(
      good({ timeouts: { totalMs: 3_000 }, retry: { maxDelayMs: 100 } }),
    ).providers.get('next')!;
    expect(next.timeouts).toEqual({
      connectMs: 3_000,
      headersMs: 0,
      firstChunkMs: 3_000,
      idleMs: 3_000,
      totalMs: 3_000,
    });
    expect(next.retry.baseDelayMs).toBe(100);
    expect(() =>
      resolveInferenceOptions(good({ timeouts: { totalMs: 3_000, idleMs: 4_000 } })),
    ).toThrow(/timeouts\.idleMs \(4000 ms\) is longer than/);
  });

  it('never shows the API key when the resolved options are logged or serialised', () => {
    const resolved = resolveInferenceOptions(good());
    const provider = resolved.providers.get('next')!;
    for (const view of [
      inspect(resolved, { depth: 10 }),
      JSON.stringify(provider),
      String(provider.apiKey),
      `${provider.apiKey}`,
    ]) {
      expect(view).not.toContain(KEY);
    }
    expect(provider.apiKey.reveal()).toBe(KEY);
  });

  it('keeps credential headers like the API key: never shown when logged, never quoted in an error', () => {
    const secret = 'sk-header-secret-123';
    const resolved = resolveInferenceOptions(
      good({
        headers: { 'x-api-key': secret, 'x-portkey-api-key': `${secret}-2`, 'x-team': 'blue' },
        secretHeaders: ['X-Portkey-Api-Key'],
      }),
    );
    const provider = resolved.providers.get('next')!;
    expect(provider.headers).toEqual({ 'x-team': 'blue' });
    expect([...provider.secretHeaders.keys()].sort()).toEqual(['x-api-key', 'x-portkey-api-key']);
    expect(provider.secretHeaders.get('x-api-key')!.reveal()).toBe(secret);
    for (const view of [inspect(resolved, { depth: 10 }), JSON.stringify(provider)]) {
      expect(view).not.toContain(secret);
    }
    const error = catchError(() =>
      resolveInferenceOptions(good({ headers: { 'x-api-key': `${secret}\n` } })),
    ) as Error;
    expect(error.message).toMatch(
      /providers\.next\.headers\.x-api-key must be a valid HTTP header/,
    );
    expect(error.message).not.toContain(secret);
  });

  it('checks the call-path options, naming each field', () => {
    for (const [options, message] of [
      [{ streamUsage: 'no' }, /providers\.next\.streamUsage must be true or false/],
      [{ maxResponseBytes: 0 }, /providers\.next\.maxResponseBytes must be a positive integer/],
      [
        { retry: { afterTimeout: 1 } },
        /providers\.next\.retry\.afterTimeout must be true or false/,
      ],
      [{ secretHeaders: 'x-key' }, /providers\.next\.secretHeaders must be a list of header names/],
      [
        { timeouts: { firstChunkMs: 0 } },
        /providers\.next\.timeouts\.firstChunkMs must be a positive/,
      ],
      [
        { headers: { accept: 'text/plain' } },
        /providers\.next\.headers\.accept cannot be set here/,
      ],
    ] as const) {
      expect(() => resolveInferenceOptions(good(options as never))).toThrow(message);
    }
    const next = resolveInferenceOptions(
      good({ streamUsage: false, maxResponseBytes: 1024, timeouts: { headersMs: 500 } }),
    ).providers.get('next')!;
    expect([next.streamUsage, next.maxResponseBytes, next.timeouts.headersMs]).toEqual([
      false,
      1024,
      500,
    ]);
  });

  it('is a Standard Schema too: the resolved options, or every issue with its path', () => {
    const { validate } = inferenceOptionsSchema['~standard'];
    expect(validate(good()).issues).toBeUndefined();
    expect(validate(good({ timeouts: { idleMs: 0 } }, { random: 1 })).issues).toEqual([
      {
        message: expect.stringMatching(/^providers\.next\.timeouts\.idleMs must be a positive/),
        path: ['providers', 'next', 'timeouts', 'idleMs'],
      },
      { message: 'random must be a function.', path: ['random'] },
    ]);
  });

  it('never quotes the API key in an error', () => {
    const error = catchError(() => resolveInferenceOptions(good({ baseUrl: KEY }))) as Error;
    expect(error.message).not.toContain(KEY);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('resolveInferenceOptions: null', () => {
  const two = (canary: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
    providers: {
      a: { baseUrl: 'https://a.example.com/v1', apiKey: KEY },
      b: { baseUrl: 'https://b.example.com/v1', apiKey: KEY },
    },
    canary: { stable: 'a', canary: 'b', ...canary },
    defaultProvider: 'a',
    ...top,
  });

  it('refuses a group given as null rather than quietly taking its defaults', () => {
    // `telemetry: null` meant to turn it off would otherwise leave it on.
    expect(() => resolveInferenceOptions(good({}, { telemetry: null }))).toThrow(
      /telemetry must be an object/,
    );
    expect(() => resolveInferenceOptions(good({ timeouts: null }))).toThrow(
      /providers\.next\.timeouts must be an object/,
    );
    expect(() => resolveInferenceOptions(two({ fastFail: null }))).toThrow(
      /canary\.fastFail must be an object/,
    );
  });

  it('takes null as the default where it always did: stickyKey, shadow, feedback and its lowerIsBetter, a cached price', () => {
    const resolved = resolveInferenceOptions(
      two(
        { stickyKey: null, shadow: null, feedback: { lowerIsBetter: null } },
        {
          providers: {
            ...two({}).providers,
            a: {
              ...two({}).providers.a,
              prices: { m: { input: 1, output: 2, cachedInput: null } },
            },
          },
        },
      ),
    );
    const defaults = resolveInferenceOptions(two({}));
    // The sticky key resolves to a function of the headers: the default reads x-user-id.
    const headers = { 'x-user-id': 'u1', 'x-other': 'o' };
    expect(resolved.canary?.stickyKey(headers)).toBe('u1');
    expect(resolved.canary?.stickyKey(headers)).toBe(defaults.canary?.stickyKey(headers));
    expect(resolved.canary?.shadow).toEqual(defaults.canary?.shadow);
    expect(resolved.canary?.feedback).toEqual(defaults.canary?.feedback);
    expect(resolved.providers.get('a')?.prices.get('m')).toEqual({
      input: 1,
      output: 2,
      cachedInput: 1,
    });
  });

  it('checks that logical models cover the rollout sides as trimmed', () => {
    expect(() =>
      resolveInferenceOptions(two({ stable: 'a ' }, { models: { chat: { b: 'x' } } })),
    ).toThrow(/models\.chat has no model name for provider 'a'/);
  });
});
