import { describe, expect, it } from 'vitest';
import { CallScope } from '../../lib/client/call-scope.js';
import { ManualClock } from '../support/manual-clock.js';

function setup() {
  const clock = new ManualClock();
  const call = new CallScope(clock, 100_000);
  const attempt = call.startAttempt();
  return { clock, call, attempt };
}

describe('AttemptScope idle watch', () => {
  it('fails the attempt when one wait lasts idleMs', () => {
    const { clock, attempt } = setup();
    attempt.watchIdle(100);
    attempt.waiting();
    clock.advance(99);
    expect(attempt.aborted).toBe(false);
    clock.advance(1);
    expect(attempt.aborted).toBe(true);
    expect(attempt.timedOut).toBe('idle');
  });

  it('measures each wait on its own, re-arming for what is left', () => {
    const { clock, attempt } = setup();
    attempt.watchIdle(100);
    attempt.waiting();
    clock.advance(60);
    attempt.received();
    attempt.waiting(); // a new wait starts at 60
    clock.advance(60); // the timer fires at 100: this wait is 40 old, so it sleeps 60 more
    expect(attempt.aborted).toBe(false);
    clock.advance(39);
    expect(attempt.aborted).toBe(false);
    clock.advance(1); // 160: the wait is 100 old
    expect(attempt.timedOut).toBe('idle');
  });

  it('does not count the time the caller spends not reading', () => {
    const { clock, attempt } = setup();
    attempt.watchIdle(100);
    attempt.waiting();
    clock.advance(50);
    attempt.received();
    clock.advance(10_000); // a slow consumer, far past idleMs (the call deadline is further)
    expect(attempt.aborted).toBe(false);
    attempt.waiting();
    clock.advance(99);
    expect(attempt.aborted).toBe(false);
  });

  it('uses no timer per read', () => {
    const { clock, attempt } = setup();
    attempt.watchIdle(100);
    const before = clock.pendingTimers;
    for (let i = 0; i < 1_000; i++) {
      attempt.waiting();
      attempt.received();
    }
    expect(clock.pendingTimers).toBe(before + 1);
    attempt.stopIdle();
    expect(clock.pendingTimers).toBe(before);
  });

  it('fails the attempt on a headers timeout, and not after disarm', () => {
    const { clock, attempt } = setup();
    attempt.armHeaders(50);
    clock.advance(49);
    attempt.disarm();
    clock.advance(100);
    expect(attempt.aborted).toBe(false);
    attempt.armHeaders(50);
    clock.advance(50);
    expect(attempt.timedOut).toBe('headers');
  });
});

describe('CallScope', () => {
  it('aborts the running attempt at the deadline and remembers why', () => {
    const clock = new ManualClock();
    const call = new CallScope(clock, 1_000);
    const attempt = call.startAttempt();
    clock.advance(1_000);
    expect(call.abortCause).toBe('deadline');
    expect(attempt.aborted).toBe(true);
    expect(attempt.timedOut).toBeUndefined();
    expect(call.startAttempt().aborted).toBe(true);
  });

  it('cuts a backoff short when the caller aborts', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const call = new CallScope(clock, 10_000, [controller.signal]);
    const pause = call.pause(5_000);
    clock.advance(100);
    controller.abort();
    await expect(pause).rejects.toThrow(/caller/);
    expect(call.abortCause).toBe('caller');
  });

  it('releases its timer and listeners when disposed', () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const call = new CallScope(clock, 10_000, [controller.signal]);
    call.dispose();
    expect(clock.pendingTimers).toBe(0);
    controller.abort();
    expect(call.abortCause).toBeUndefined();
  });
});
