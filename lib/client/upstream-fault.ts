import type { UpstreamErrorBody } from '../errors/index.js';

/** A fault found in a response body, before the client knows which call it belongs to. */
export class UpstreamFault extends Error {
  constructor(
    readonly kind: 'protocol' | 'error-frame' | 'incomplete' | 'too-large',
    message: string,
    readonly retryable = false,
    /** An error frame's own fields (not yet redacted). */
    readonly upstream?: UpstreamErrorBody,
  ) {
    super(message);
  }
}
