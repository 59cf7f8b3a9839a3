import { describe, expect, it } from 'vitest';
import { CallScope } from '../../../lib/client/call-scope.js';
import { ManualClock } from '../../support/manual-clock.js';

const timeouts = { connectMs: 50, headersMs: 50, firstChunkMs: 80, idleMs: 100, totalMs: 100_000 };

function setup(overrides: Partial<typeof timeouts> = {}) {
  const clock = new ManualClock();
  const call = new CallScope(clock, { ...timeouts, ...overrides });
  const attempt = call.startAttempt();
  return { clock, call, attempt };
}

describe('the idle budget', () => {
  it('fails the attempt when one wait lasts idleMs', () => {
    const { clock, attempt } = setup();
    clock.advance(7); // the wait need not start with the call
    attempt.waiting();
    clock.advance(99);
    expect(attempt.aborted).toBe(false);
    clock.advance(1);
    expect(attempt.aborted).toBe(true);
    expect(attempt.timedOut).toBe('idle');
  });

  it('measures each wait on its own', () => {
    const { clock, attempt } = setup();
    attempt.waiting();
    clock.advance(60);
    attempt.received();
    attempt.waiting(); // a new wait starts at 60
    clock.advance(99);
    expect(attempt.aborted).toBe(false);
    clock.advance(1); // 160: this wait is 100 old
    expect(attempt.timedOut).toBe('idle');
  });

  it('does not count the time the caller spends not reading', () => {
    const { clock, attempt } = setup();
    attempt.waiting();
    clock.advance(50);
    attempt.received();
    clock.advance(10_000); // a slow consumer, far past idleMs
    expect(attempt.aborted).toBe(false);
    attempt.waiting();
    clock.advance(99);
    expect(attempt.aborted).toBe(false);
  });

  it('costs no timer per read: one alarm serves the whole call', () => {
    const { clock, call, attempt } = setup();
    expect(clock.pendingTimers).toBe(1);
    for (let i = 0; i < 1_000; i++) {
      attempt.waiting();
      clock.advance(1);
      attempt.received();
    }
    expect(clock.pendingTimers).toBe(1);
    expect(attempt.aborted).toBe(false);
    call.dispose();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('the headers budget', () => {
  it('fails the attempt when the headers are late, and not once they arrived', () => {
    const { clock, call, attempt } = setup();
    attempt.armHeaders(false);
    clock.advance(49);
    attempt.disarm();
    clock.advance(500);
    expect(attempt.aborted).toBe(false);
    const retry = call.startAttempt();
    retry.armHeaders(false); // at 549
    clock.advance(49);
    expect(retry.aborted).toBe(false);
    clock.advance(1);
    expect(retry.timedOut).toBe('headers');
  });

  it('is off at 0: a unary call then waits for its headers as long as the total budget allows', () => {
    const { clock, call, attempt } = setup({ headersMs: 0, totalMs: 10_000 });
    attempt.armHeaders(false);
    clock.advance(9_999);
    expect(attempt.aborted).toBe(false);
    clock.advance(1);
    expect(call.abortCause).toBe('deadline');
  });
});

describe('the first-chunk budget (streams)', () => {
  it('bounds the wait for the first event, headers included, and the idle budget starts after it', () => {
    const { clock, attempt } = setup({ headersMs: 0 });
    attempt.armHeaders(true);
    attempt.disarm(); // headers at once
    attempt.waiting(); // not the idle budget yet: 100 ms would not fire before 80
    clock.advance(79);
    expect(attempt.aborted).toBe(false);
    clock.advance(1);
    expect(attempt.timedOut).toBe('first-chunk');
  });

  it('ends at the first chunk with content; then idleMs runs between events', () => {
    const { clock, attempt } = setup({ headersMs: 0 });
    attempt.armHeaders(true);
    attempt.waiting();
    clock.advance(70);
    attempt.received(); // the first chunk
    attempt.answered(); // and it carried content
    attempt.waiting();
    clock.advance(99);
    expect(attempt.aborted).toBe(false);
    clock.advance(1);
    expect(attempt.timedOut).toBe('idle');
  });

  it('goes on after an event without content (a role chunk): idleMs does not apply yet', () => {
    const { clock, attempt } = setup({ headersMs: 0 });
    attempt.armHeaders(true);
    attempt.waiting();
    clock.advance(10);
    attempt.received(); // the assistant's role, and nothing else
    attempt.waiting();
    clock.advance(69); // past nothing yet: first chunk due at 80, idle would be at 110
    expect(attempt.aborted).toBe(false);
    clock.advance(1);
    expect(attempt.timedOut).toBe('first-chunk');
  });
});

describe('reads that are not progress (SSE comments)', () => {
  it('do not restart a running wait', () => {
    const { clock, attempt } = setup();
    attempt.waiting();
    clock.advance(60);
    attempt.waiting(); // a read brought only a comment: the wait goes on from 0
    clock.advance(40);
    expect(attempt.timedOut).toBe('idle');
  });
});

describe('CallScope', () => {
  it('aborts the running attempt at the deadline and remembers why', () => {
    const { clock, call, attempt } = setup({ totalMs: 1_000, headersMs: 1_000, idleMs: 1_000 });
    attempt.armHeaders(false);
    clock.advance(999);
    attempt.disarm();
    attempt.waiting();
    clock.advance(1);
    expect(call.abortCause).toBe('deadline');
    expect(attempt.aborted).toBe(true);
    expect(attempt.timedOut).toBeUndefined();
    expect(call.startAttempt().aborted).toBe(true);
  });

  it('enforces the deadline even while nothing is awaited (a consumer that stopped reading)', () => {
    const { clock, call } = setup({ totalMs: 1_000 });
    clock.advance(1_000);
    expect(call.abortCause).toBe('deadline');
  });

  it('cuts a backoff short when the caller aborts', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const call = new CallScope(clock, timeouts, [controller.signal]);
    const pause = call.pause(5_000);
    clock.advance(10);
    controller.abort();
    await expect(pause).rejects.toThrow(/caller/);
    expect(call.abortCause).toBe('caller');
  });

  it('releases its alarm and listeners when disposed', () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const call = new CallScope(clock, timeouts, [controller.signal]);
    call.dispose();
    expect(clock.pendingTimers).toBe(0);
    controller.abort();
    expect(call.abortCause).toBeUndefined();
  });
});
