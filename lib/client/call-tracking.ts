/** How the application's lifecycle follows one upstream call (see `lifecycle/`). */
export interface CallTracking {
  /** The stream's first chunk reached the caller. */
  streaming(): void;
  /** The call ended, however it ended. Called once. */
  end(): void;
}

/**
 * Called as a call starts, with the way to stop it: it then fails with a shutdown error asking
 * the caller to retry after `retryAfterMs`. It may throw to refuse the call.
 */
export type TrackCall = (stop: (retryAfterMs: number) => void) => CallTracking;
