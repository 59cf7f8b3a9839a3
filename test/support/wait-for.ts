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
