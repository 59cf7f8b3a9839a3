/** A fault found in a response body, before the client knows which call it belongs to. */
export class UpstreamFault extends Error {
  constructor(
    readonly kind: 'protocol' | 'error-frame' | 'incomplete' | 'too-large',
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}
