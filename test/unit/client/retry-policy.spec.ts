import { describe, expect, it } from 'vitest';
import { retryAfterMs, shouldRetryHeader } from '../../../lib/client/retry-after.js';
import { RetryPolicy } from '../../../lib/client/retry.policy.js';
import {
  InferenceHttpError,
  InferenceProtocolError,
  InferenceTimeoutError,
  type FailurePhase,
} from '../../../lib/index.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const retryable = (retryAfter?: number) =>
  new InferenceHttpError('x', {
    provider: 'p',
    requestId: 'r',
    phase: 'headers',
    retryable: true,
    status: 503,
    retryAfterMs: retryAfter,
  });

describe('retryAfterMs', () => {
  it.each([
    [{ 'retry-after-ms': '1500' }, 1500],
    [{ 'retry-after-ms': '12.3' }, 13],
    [{ 'retry-after': '3' }, 3000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after': 'Tue, 24 Nov 2026 12:00:07 GMT' }, 7000],
    [{ 'retry-after': 'Tue, 24 Nov 2026 11:59:00 GMT' }, 0],
    [{ 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    [{ 'retry-after-ms': 'soon', 'retry-after': '2' }, 2000],
    [{ 'retry-after': 'whenever' }, undefined],
    [{ 'retry-after': '-1' }, undefined],
    [{}, undefined],
  ])('reads %j as %s ms', (headers, expected) => {
    expect(retryAfterMs(headers, NOW)).toBe(expected);
  });

  it('reads x-should-retry', () => {
    expect(shouldRetryHeader({ 'x-should-retry': 'true' })).toBe(true);
    expect(shouldRetryHeader({ 'x-should-retry': 'FALSE' })).toBe(false);
    expect(shouldRetryHeader({ 'x-should-retry': 'maybe' })).toBeUndefined();
  });
});

describe('RetryPolicy', () => {
  const options = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1_000, afterTimeout: false };

  it('backs off exponentially with full jitter, capped', () => {
    const top = new RetryPolicy(options, () => 0.999999);
    expect([1, 2, 3, 4, 5].map((n) => top.backoff(n))).toEqual([99, 199, 399, 799, 999]);
    const bottom = new RetryPolicy(options, () => 0);
    expect([1, 2, 3].map((n) => bottom.backoff(n))).toEqual([0, 0, 0]);
    const middle = new RetryPolicy(options, () => 0.5);
    expect(middle.backoff(3)).toBe(200);
  });

  it('stops after maxRetries', () => {
    const policy = new RetryPolicy(options, () => 0.5);
    expect([1, 2, 3, 4].map((n) => policy.nextDelay(retryable(), n, 10_000))).toEqual([
      50,
      100,
      200,
      undefined,
    ]);
  });

  it('never retries what is not retryable', () => {
    const error = new InferenceProtocolError('x', {
      provider: 'p',
      requestId: 'r',
      phase: 'body',
      retryable: false,
    });
    expect(new RetryPolicy(options, () => 0.5).nextDelay(error, 1, 10_000)).toBeUndefined();
  });

  it('honours the provider’s Retry-After, up to maxDelayMs', () => {
    const policy = new RetryPolicy(options, () => 0.5);
    expect(policy.nextDelay(retryable(700), 1, 10_000)).toBe(700);
    expect(policy.nextDelay(retryable(0), 1, 10_000)).toBe(0);
    expect(policy.nextDelay(retryable(5_000), 1, 10_000)).toBeUndefined();
  });

  it('retries a timed-out attempt only before its request was sent, unless afterTimeout', () => {
    const timedOut = (phase: FailurePhase) =>
      new InferenceTimeoutError('x', { provider: 'p', requestId: 'r', phase, retryable: true });
    const policy = new RetryPolicy(options, () => 0.5);
    const eager = new RetryPolicy({ ...options, afterTimeout: true }, () => 0.5);
    for (const phase of ['headers', 'first-chunk', 'idle'] as const) {
      expect(policy.nextDelay(timedOut(phase), 1, 10_000)).toBeUndefined();
      expect(eager.nextDelay(timedOut(phase), 1, 10_000)).toBe(50);
    }
    expect(policy.nextDelay(timedOut('connect'), 1, 10_000)).toBe(50);
  });

  it('never waits past the deadline', () => {
    const policy = new RetryPolicy(options, () => 0.5);
    expect(policy.nextDelay(retryable(700), 1, 700)).toBeUndefined();
    expect(policy.nextDelay(retryable(700), 1, 701)).toBe(700);
    expect(policy.nextDelay(retryable(), 1, 40)).toBeUndefined();
  });
});
