/**
 * Time source for the client. Injected through the module options so that tests of backoff,
 * deadlines and `Retry-After` dates are exact.
 */
export interface Clock {
  /** Milliseconds since the epoch. The system clock is monotonic within a process. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * `clock.setTimeout` for a timer that must not keep the process alive: its handle is unref'd
 * when it can be (the system clock's can; a test clock's need not), as Node's `timer.unref()`.
 */
export function setUnrefTimeout(clock: Clock, callback: () => void, ms: number): unknown {
  const handle = clock.setTimeout(callback, ms);
  (handle as { unref?: () => void } | null | undefined)?.unref?.();
  return handle;
}

/**
 * `AbortSignal.timeout(ms)` on the clock: aborted after `ms` with the same `TimeoutError`, on a
 * timer that never holds the process open. `clear()` releases the timer once the work is over.
 */
export function timeoutSignal(clock: Clock, ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setUnrefTimeout(
    clock,
    () =>
      controller.abort(
        new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      ),
    ms,
  );
  return { signal: controller.signal, clear: () => clock.clearTimeout(timer) };
}

/**
 * Waits `ms` on the clock, as `setTimeout` of `node:timers/promises`: rejects at once with an
 * `AbortError` when `signal` aborts (or already has), and releases its timer then.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => reject(new DOMException('The operation was aborted', 'AbortError'));
    if (signal?.aborted) return aborted();
    const onAbort = () => {
      clock.clearTimeout(timer);
      aborted();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
