import { setTimeout as delay } from 'node:timers/promises';

/**
 * Checks `condition` every 2 ms (sync) or after each answer (async) until it holds; fails naming
 * `what` after `timeoutMs`.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(2);
  }
}

/** `promise`, or a failure naming `what` (and `detail()`) if it has not settled within `ms`. */
export function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  detail: () => string = () => '',
): Promise<T> {
  return Promise.race([
    promise,
    delay(ms).then(() => {
      throw new Error(`${what} did not come within ${ms} ms${detail() ? `:\n${detail()}` : ''}`);
    }),
  ]);
}
