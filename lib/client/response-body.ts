import type { Dispatcher } from 'undici';
import { setUnrefTimeout, systemClock, type Clock } from './clock.js';
import { UpstreamFault } from './upstream-fault.js';

type Body = Dispatcher.ResponseData['body'];

/** What the client tells the call's idle budget as bytes arrive. */
export interface BodyWatch {
  waiting(): void;
  received(): void;
  /** A stream's first chunk with content arrived (see `AttemptScope.answered`). */
  answered?(): void;
  /** The clock that times a discard (see `DISCARD_BOUNDS`); the system clock when absent. */
  readonly clock?: Clock;
}

/**
 * What is read of a body nobody needs any more (past a limit, after `[DONE]`) so its socket can
 * go back to the pool; a body that is longer or slower than this is destroyed instead.
 */
export const DISCARD_BOUNDS = { maxBytes: 64 * 1024 * 1024, maxMs: 1_000 } as const;

/**
 * Reads a whole body under the idle budget (each delivery starts a new wait, so the upstream has
 * `idleMs` between two reads, not for the whole body). Past `limit` bytes the read fails at once
 * with a `too-large` fault, and the rest of the body is discarded in the background.
 */
export function readBody(body: Body, watch: BodyWatch, limit: number): Promise<string> {
  return collect(body, watch, limit, 'fail');
}

/** Reads the first `limit` bytes of a body (an error's), then discards the rest in the background. */
export function readBodyStart(body: Body, watch: BodyWatch, limit: number): Promise<string> {
  return collect(body, watch, limit, 'truncate');
}

function collect(
  body: Body,
  watch: BodyWatch,
  limit: number,
  overflow: 'fail' | 'truncate',
): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (part: Buffer) => {
      watch.received();
      if (size + part.length > limit) {
        parts.push(part.subarray(0, limit - size));
        detach();
        if (overflow === 'fail') {
          reject(new UpstreamFault('too-large', `the response body is larger than ${limit} bytes`));
        } else {
          resolve(text(parts));
        }
        discardRest(body, part.length - (limit - size), watch.clock ?? systemClock);
        return;
      }
      size += part.length;
      parts.push(part);
      watch.waiting();
    };
    const onEnd = () => {
      detach();
      resolve(text(parts));
    };
    const onError = (error: Error) => {
      detach();
      reject(error);
    };
    const detach = () => {
      watch.received();
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    watch.waiting();
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
  });
}

function text(parts: Buffer[]): string {
  return parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8');
}

/**
 * Reads the rest of a body without keeping it, so a socket that is otherwise reusable goes back
 * to the pool; destroys the body instead when it runs past `DISCARD_BOUNDS`. Never throws.
 */
function discardRest(body: Body, alreadyDiscarded: number, clock: Clock): void {
  if (body.readableEnded || body.destroyed) return;
  let size = alreadyDiscarded;
  const timer = setUnrefTimeout(clock, () => body.destroy(), DISCARD_BOUNDS.maxMs);
  const done = () => clock.clearTimeout(timer);
  body.on('error', done);
  body.once('end', done);
  body.once('close', done);
  body.on('data', (part: Buffer) => {
    size += part.length;
    if (size > DISCARD_BOUNDS.maxBytes) body.destroy();
  });
  if (size > DISCARD_BOUNDS.maxBytes) body.destroy();
}
