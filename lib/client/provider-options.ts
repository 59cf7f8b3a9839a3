/**
 * The provider client's own options: what bounds a call. The module's options (`options/`)
 * compose them, fill in their defaults and validate them.
 */

/** The budgets a single call may override; `connectMs` belongs to the provider's connection pool. */
export const CALL_TIMEOUT_FIELDS = ['headersMs', 'firstChunkMs', 'idleMs', 'totalMs'] as const;

/**
 * What bounds a call. A unary call's response headers usually come only when the whole
 * generation is done, so a unary call is bounded by `totalMs` until they arrive (and by `headersMs`
 * if you set it), then by `idleMs` between body reads. A stream is bounded by `firstChunkMs` until
 * its first chunk, then by `idleMs` between chunks. SSE comments (`: keep-alive`) are not progress:
 * they reset neither budget. `totalMs` bounds everything: attempts, backoff and a fallback.
 */
export interface TimeoutOptions {
  /** Opening a TCP/TLS connection. Default 5,000 ms. */
  connectMs: number;
  /**
   * From sending the request to the response headers, for unary calls and streams. Default 0:
   * no bound of its own (a unary generation may take minutes before its headers); set it when
   * your provider sends headers at once.
   */
  headersMs: number;
  /** Streams: from sending the request to the first chunk (comments do not count). Default 60,000 ms. */
  firstChunkMs: number;
  /** Longest silence between two body reads, or two stream chunks. Default 30,000 ms. */
  idleMs: number;
  /** The whole call: retries, backoff and a canary's fallback included. Default 120,000 ms. */
  totalMs: number;
}

/** What a call may override of its provider's timeouts (see `CALL_TIMEOUT_FIELDS`). */
export type CallTimeoutOptions = Partial<
  Pick<TimeoutOptions, (typeof CALL_TIMEOUT_FIELDS)[number]>
>;
