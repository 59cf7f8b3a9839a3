import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  InferenceConnectionError,
  InferenceError,
  InferenceHttpError,
  InferenceIncompleteStreamError,
  InferenceProtocolError,
  InferenceRateLimitError,
  InferenceStreamError,
  InferenceTimeoutError,
  type ChatCompletionChunk,
  type FailurePhase,
  type StreamSummary,
} from '../../lib/index.js';
import type { SimulatedFault } from '../../lib/testing/index.js';
import { hello, startHarness, TEST_API_KEY, type Harness } from '../support/inference-harness.js';

const TIMEOUTS = { connectMs: 200, headersMs: 300, firstChunkMs: 300, idleMs: 300, totalMs: 3_000 };
/** How long after its deadline a failing call may take to settle (event loop, socket teardown). */
const SLACK_MS = 250;

type Expected =
  | { ok: true; attempts: number }
  | {
      ok: false;
      error: new (...args: never[]) => InferenceError;
      phase: FailurePhase;
      attempts: number;
      status?: number;
      /** Chunks the caller saw before the failure (streams). */
      delivered?: 'all' | 'some' | 'none';
    };

interface Case {
  name: string;
  mode: 'chat' | 'stream';
  faults: SimulatedFault[];
  expected: Expected;
  totalMs?: number;
  /** The provider asked for a wait: the call must not come back sooner. */
  minMs?: number;
}

const ok = (attempts: number): Expected => ({ ok: true, attempts });
const status = (code: number, extra: Partial<Extract<SimulatedFault, { type: 'status' }>> = {}) =>
  ({ type: 'status', status: code, ...extra }) as SimulatedFault;

const cases: Case[] = [
  // Retryable statuses: one failure, then success.
  ...[408, 409, 429, 500, 502, 503, 504].map((code): Case => ({
    name: `${code} once`,
    mode: 'chat',
    faults: [status(code)],
    expected: ok(2),
  })),
  { name: '503 twice', mode: 'chat', faults: [status(503), status(503)], expected: ok(3) },
  {
    name: '503 on every attempt',
    mode: 'chat',
    faults: [status(503), status(503), status(503)],
    expected: { ok: false, error: InferenceHttpError, phase: 'headers', attempts: 3, status: 503 },
  },
  {
    name: '429 with retry-after-ms',
    mode: 'chat',
    faults: [status(429, { retryAfterMs: 40 })],
    expected: ok(2),
    minMs: 40,
  },
  {
    name: '503 with retry-after seconds',
    mode: 'chat',
    faults: [status(503, { retryAfter: 0 })],
    expected: ok(2),
  },
  {
    name: '503 with retry-after date',
    mode: 'chat',
    faults: [status(503, { retryAfter: new Date(Date.now() - 1000).toUTCString() })],
    expected: ok(2),
  },
  {
    name: '429 asking for an hour',
    mode: 'chat',
    faults: [status(429, { retryAfter: 3600 })],
    expected: {
      ok: false,
      error: InferenceRateLimitError,
      phase: 'headers',
      attempts: 1,
      status: 429,
    },
  },
  {
    name: '400 (the caller’s fault)',
    mode: 'chat',
    faults: [status(400)],
    expected: { ok: false, error: InferenceHttpError, phase: 'headers', attempts: 1, status: 400 },
  },
  {
    name: '401 echoing the key',
    mode: 'chat',
    faults: [status(401, { message: `Incorrect API key provided: ${TEST_API_KEY}` })],
    expected: { ok: false, error: InferenceHttpError, phase: 'headers', attempts: 1, status: 401 },
  },
  {
    name: '500 with x-should-retry: false',
    mode: 'chat',
    faults: [status(500, { shouldRetry: false })],
    expected: { ok: false, error: InferenceHttpError, phase: 'headers', attempts: 1, status: 500 },
  },
  {
    name: '400 with x-should-retry: true',
    mode: 'chat',
    faults: [status(400, { shouldRetry: true })],
    expected: ok(2),
  },
  {
    name: 'reset before headers',
    mode: 'chat',
    faults: [{ type: 'reset-before-headers' }],
    expected: ok(2),
  },
  { name: 'reset mid-body', mode: 'chat', faults: [{ type: 'reset-mid-body' }], expected: ok(2) },
  {
    name: 'stall before headers',
    mode: 'chat',
    faults: [{ type: 'stall-before-headers' }],
    expected: ok(2),
  },
  {
    name: 'stall before headers on every attempt',
    mode: 'chat',
    faults: Array.from({ length: 3 }, () => ({ type: 'stall-before-headers' }) as const),
    expected: { ok: false, error: InferenceTimeoutError, phase: 'headers', attempts: 3 },
  },
  {
    name: 'stall before headers past the total deadline',
    mode: 'chat',
    totalMs: 150,
    faults: [{ type: 'stall-before-headers' }],
    expected: { ok: false, error: InferenceTimeoutError, phase: 'deadline', attempts: 1 },
  },
  { name: 'stall mid-body', mode: 'chat', faults: [{ type: 'stall-mid-stream' }], expected: ok(2) },
  {
    name: 'malformed JSON',
    mode: 'chat',
    faults: [{ type: 'malformed-json' }],
    expected: { ok: false, error: InferenceProtocolError, phase: 'body', attempts: 1 },
  },
  {
    name: 'slow trickle',
    mode: 'chat',
    faults: [{ type: 'slow-trickle', bytesPerTick: 64, tickMs: 5 }],
    expected: ok(1),
  },

  // Streams: retried until the first chunk reaches the caller, never after.
  { name: '503 once', mode: 'stream', faults: [status(503)], expected: ok(2) },
  {
    name: '429 once',
    mode: 'stream',
    faults: [status(429, { retryAfterMs: 10 })],
    expected: ok(2),
  },
  {
    name: 'reset before headers',
    mode: 'stream',
    faults: [{ type: 'reset-before-headers' }],
    expected: ok(2),
  },
  {
    name: 'stall before headers',
    mode: 'stream',
    faults: [{ type: 'stall-before-headers' }],
    expected: ok(2),
  },
  {
    name: 'reset mid-stream',
    mode: 'stream',
    faults: [{ type: 'reset-mid-body', afterChunks: 3 }],
    expected: {
      ok: false,
      error: InferenceConnectionError,
      phase: 'body',
      attempts: 1,
      delivered: 'some',
    },
  },
  {
    name: 'stall mid-stream',
    mode: 'stream',
    faults: [{ type: 'stall-mid-stream', afterChunks: 3 }],
    expected: {
      ok: false,
      error: InferenceTimeoutError,
      phase: 'idle',
      attempts: 1,
      delivered: 'some',
    },
  },
  {
    name: 'malformed SSE',
    mode: 'stream',
    faults: [{ type: 'malformed-sse', afterChunks: 2 }],
    expected: {
      ok: false,
      error: InferenceProtocolError,
      phase: 'body',
      attempts: 1,
      delivered: 'some',
    },
  },
  {
    name: 'end without [DONE]',
    mode: 'stream',
    faults: [{ type: 'no-done' }],
    expected: {
      ok: false,
      error: InferenceIncompleteStreamError,
      phase: 'body',
      attempts: 1,
      delivered: 'all',
    },
  },
  {
    name: 'error frame mid-stream',
    mode: 'stream',
    faults: [{ type: 'error-frame', afterChunks: 2 }],
    expected: {
      ok: false,
      error: InferenceStreamError,
      phase: 'body',
      attempts: 1,
      delivered: 'some',
    },
  },
  {
    name: 'slow trickle',
    mode: 'stream',
    faults: [{ type: 'slow-trickle', bytesPerTick: 64, tickMs: 5 }],
    expected: ok(1),
  },
];

describe('fault matrix', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      { chunks: 6 },
      // Timed-out attempts are retried here (`afterTimeout`), so the matrix covers those retries;
      // the default, which does not retry them, is in call-path and error-responses.
      { timeouts: TIMEOUTS, retry: { baseDelayMs: 1, maxDelayMs: 100, afterTimeout: true } },
    );
  });
  afterAll(async () => h.close());
  beforeEach(() => h.provider.reset());

  it.each(cases.map((c) => [`${c.mode}: ${c.name}`, c] as const))('%s', async (_name, c) => {
    h.provider.script(...c.faults);
    const deadline = c.totalMs ?? TIMEOUTS.totalMs;
    const started = performance.now();
    const outcome = await run(h, c);
    const elapsed = performance.now() - started;

    expect(elapsed).toBeLessThan(deadline + SLACK_MS);
    expect(elapsed).toBeGreaterThanOrEqual(c.minMs ?? 0);
    expect(observed(outcome)).toEqual(expectedOf(c));

    // What arrived is a clean prefix of the answer: nothing duplicated, nothing replayed.
    expect(FULL_TEXT.startsWith(outcome.text)).toBe(true);
    const error = outcome.error;
    for (const view of [String(error), `${JSON.stringify(error)}`, inspect(error, { depth: 10 })]) {
      expect(view).not.toContain(TEST_API_KEY);
    }
    expect(h.provider.attempts).toBe(outcome.attempts);

    // Nothing left in flight on either side, and no socket held by an unread body.
    await h.provider.settled();
    expect(h.provider.inProgress).toBe(0);
    // An aborted socket is torn down a tick later: its request leaves `running` then.
    const pool = () => h.registry.get('sim', 'check').stats;
    await expect.poll(() => pool().running).toBe(0);
    expect(pool().pending).toBe(0);
    await expect.poll(() => h.provider.openConnections).toBe(pool().connected);
    expect(h.logger.lines.join('\n')).not.toContain(TEST_API_KEY);
  });
});

const FULL_TEXT = 'tok0 tok1 tok2 tok3 tok4 tok5 ';

/** One record per case, so each case is a single comparison. */
function observed(outcome: { text: string; attempts: number; error?: unknown }) {
  const error = outcome.error as InferenceError | undefined;
  return {
    ok: error === undefined,
    attempts: outcome.attempts,
    error: error?.constructor.name,
    phase: error?.phase,
    status: error instanceof InferenceHttpError ? error.status : undefined,
    provider: error?.provider,
    hasRequestId: error === undefined || /\S/.test(error.requestId),
    delivered: outcome.text === FULL_TEXT ? 'all' : outcome.text.length > 0 ? 'some' : 'none',
  };
}

function expectedOf(c: Case): ReturnType<typeof observed> {
  const e = c.expected;
  if (e.ok) {
    return {
      ok: true,
      attempts: e.attempts,
      error: undefined,
      phase: undefined,
      status: undefined,
      provider: undefined,
      hasRequestId: true,
      delivered: 'all',
    };
  }
  return {
    ok: false,
    attempts: e.attempts,
    error: e.error.name,
    phase: e.phase,
    status: e.status,
    provider: 'sim',
    hasRequestId: true,
    delivered: e.delivered ?? 'none',
  };
}

async function run(
  h: Harness,
  c: Case,
): Promise<{ text: string; attempts: number; error?: unknown }> {
  const options = c.totalMs ? { timeouts: { totalMs: c.totalMs } } : {};
  if (c.mode === 'chat') {
    try {
      const result = await h.service.chat(hello, options);
      return {
        text: result.choices[0]!.message.content ?? '',
        attempts: result.inference.attempts,
      };
    } catch (error) {
      return { text: '', attempts: (error as InferenceError).attempts, error };
    }
  }
  const chunks: ChatCompletionChunk[] = [];
  const ends: StreamSummary[] = [];
  let error: unknown;
  try {
    for await (const chunk of h.service.stream(hello, { ...options, onEnd: (s) => ends.push(s) })) {
      chunks.push(chunk);
    }
  } catch (thrown) {
    error = thrown;
  }
  // Exactly one summary per stream, whose outcome and error agree with what the caller saw.
  expect(ends).toHaveLength(1);
  expect(ends[0]!.outcome).toBe(error ? 'failed' : 'completed');
  expect(ends[0]!.error).toBe(error);
  return { text: textOf(chunks), attempts: ends[0]!.attempts, error };
}

function textOf(chunks: ChatCompletionChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}
