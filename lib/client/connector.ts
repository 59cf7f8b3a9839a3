import type { Socket } from 'node:net';
import { buildConnector, errors } from 'undici';
import type { Clock } from './clock.js';

/**
 * undici's own connector (TCP, TLS, keep-alive) with a precise connect timeout on the module's
 * clock. undici times connects with its half-second ticker, so a 200 ms budget fired after up to
 * a second; this one fires on time, with undici's `ConnectTimeoutError`.
 */
export function buildTimedConnector(connectMs: number, clock: Clock): buildConnector.connector {
  const connect = buildConnector({ timeout: 0 }); // 0: undici sets no timer of its own
  return (options, callback) => {
    let settled = false;
    const timer = clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      socket?.destroy();
      callback(
        new errors.ConnectTimeoutError(
          `connect timeout after ${connectMs} ms (${options.hostname}:${options.port})`,
        ),
        null,
      );
    }, connectMs);
    // undici's connector returns the socket it opens, though its type says void.
    const socket = connect(options, (error, connected) => {
      if (settled) {
        connected?.destroy();
        return;
      }
      settled = true;
      clock.clearTimeout(timer);
      if (error) callback(error, null);
      else callback(null, connected!);
    }) as unknown as Socket | undefined;
  };
}
