import type { InferenceError } from '../errors/index.js';
import type { Attempt } from './attempt-scope.js';
import type { ProviderTransport } from './provider-transport.js';
import type { UpstreamCall } from './upstream-call.js';

/** Defined with the attempt's scope (`attempt-scope.ts`); named here too, for `withRetries`' callers. */
export type { Attempt };

/**
 * Runs attempts of `call` until one succeeds, its policy gives up, or the call is stopped: a
 * call its caller cancelled, whose deadline passed or that the drain stopped is never retried
 * here, even when its error invites a retry elsewhere. Backoff waits end at once when the call is
 * aborted. Whatever an attempt throws is typed once, by the transport. `run` is a function made
 * once per client, not per call.
 */
export async function withRetries<C extends UpstreamCall, T>(
  transport: ProviderTransport,
  call: C,
  run: (call: C, attempt: Attempt) => Promise<T>,
): Promise<T> {
  const { scope } = call;
  for (let number = 1; ; number++) {
    call.attempts = number;
    const attempt: Attempt = { number, phase: 'headers', scope: scope.startAttempt() };
    let error: InferenceError;
    try {
      const result = await run(call, attempt);
      call.upstreamRequestId = attempt.upstreamRequestId;
      call.rateLimit = attempt.rateLimit;
      return result;
    } catch (thrown) {
      error = transport.classify(thrown, scope, call.requestId, attempt);
      attempt.scope.settle();
    }
    const delay = scope.abortCause
      ? undefined
      : call.retry.nextDelay(error, number, scope.remainingMs());
    if (delay === undefined) throw error;
    call.retrying(number, delay, error);
    try {
      await scope.pause(delay);
    } catch (thrown) {
      throw transport.classify(thrown, scope, call.requestId, attempt);
    }
  }
}
