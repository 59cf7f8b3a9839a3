import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { CallScope } from '../../../lib/client/call-scope.js';
import { HttpRequestContext, cancelSourceOf } from '../../../lib/context/http-request-context.js';
import { InflightRequest } from '../../../lib/lifecycle/inflight-request.js';
import { ManualClock } from '../../support/manual-clock.js';

const timeouts = { connectMs: 50, headersMs: 0, firstChunkMs: 80, idleMs: 100, totalMs: 100_000 };

function request(): InflightRequest {
  return new InflightRequest(undefined, 'POST', 0, {} as ServerResponse);
}

describe('an in-flight request as the cancel source of its calls', () => {
  it('aborts the calls listening to it when its client goes, once', () => {
    const inflight = request();
    const clock = new ManualClock();
    const listening = new CallScope(clock, timeouts, [inflight]);
    const settled = new CallScope(clock, timeouts, [inflight]);
    settled.dispose(); // a call that ended stops listening
    let heard = 0;
    const count = () => heard++;
    inflight.addEventListener('abort', count);
    inflight.clientGone();
    inflight.clientGone();
    expect(listening.abortCause).toBe('caller');
    expect(settled.abortCause).toBeUndefined();
    expect(heard).toBe(1);
    expect(inflight.aborted).toBe(true);
    // A call started after the client left is aborted at once.
    expect(new CallScope(clock, timeouts, [inflight]).abortCause).toBe('caller');
    listening.dispose();
  });

  it('keeps no listener of a call that ended', () => {
    const inflight = request();
    const clock = new ManualClock();
    for (let i = 0; i < 1_000; i++) new CallScope(clock, timeouts, [inflight]).dispose();
    let heard = 0;
    inflight.addEventListener('abort', () => heard++);
    inflight.clientGone();
    expect(heard).toBe(1);
  });

  it('runs a listener added twice once, and skips one an earlier listener removed', () => {
    const inflight = request();
    const heard: string[] = [];
    const second = () => heard.push('second');
    const first = () => {
      heard.push('first');
      inflight.removeEventListener('abort', second);
    };
    const twice = () => heard.push('twice');
    inflight.addEventListener('abort', twice);
    inflight.addEventListener('abort', twice);
    inflight.addEventListener('abort', first);
    inflight.addEventListener('abort', second);
    inflight.clientGone();
    expect(heard).toEqual(['twice', 'first']);
  });
});

describe('a request context that follows its request', () => {
  it('gives calls the request itself, and code that asks for `signal` an AbortSignal', () => {
    const inflight = request();
    const context = new HttpRequestContext('r-1', {}, inflight);
    expect(cancelSourceOf(context)).toBe(inflight);
    const signal = context.signal!;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(context.signal).toBe(signal);
    inflight.clientGone();
    expect(signal.aborted).toBe(true);
  });

  it('takes a signal assigned later instead', () => {
    const inflight = request();
    const context = new HttpRequestContext('r-2', {}, inflight);
    const own = new AbortController().signal;
    context.signal = own;
    expect(context.signal).toBe(own);
    expect(cancelSourceOf(context)).toBe(own);
    // A context the app built itself: its own signal, if any.
    expect(cancelSourceOf({ requestId: 'r-3' })).toBeUndefined();
    expect(cancelSourceOf({ requestId: 'r-4', signal: own })).toBe(own);
  });
});
