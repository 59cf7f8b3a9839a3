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
