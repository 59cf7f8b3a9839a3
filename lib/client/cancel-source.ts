/**
 * What a call listens to for its caller's cancellation: an `AbortSignal`, or anything that acts
 * like one for `abort` alone. An in-flight HTTP request is one, so a call made for it listens to
 * its client going away without an `AbortController` per request.
 */
export interface CancelSource {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
