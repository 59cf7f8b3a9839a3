import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';

/** The default bound on one buffered event, in characters. */
export const DEFAULT_MAX_EVENT_SIZE = 1 << 20;

export class SseOverflowError extends Error {}

/**
 * Incremental Server-Sent Events decoding: bytes in, whole events out. Handles UTF-8 split across
 * reads, CR/LF/CRLF, comments and multi-line `data:`. Memory stays bounded by one event
 * (`maxEventSize`) plus one network read; an event larger than that is an error.
 */
export class SseDecoder {
  readonly #text = new TextDecoder('utf-8');
  readonly #parser: EventSourceParser;
  #ready: EventSourceMessage[] = [];
  #overflow = false;

  constructor(maxEventSize = DEFAULT_MAX_EVENT_SIZE) {
    this.#parser = createParser({
      maxBufferSize: maxEventSize,
      onEvent: (event) => this.#ready.push(event),
      onError: (error) => {
        if (error.type === 'max-buffer-size-exceeded') this.#overflow = true;
      },
    });
  }

  /** Feeds one network read; returns the events it completed, in order. */
  push(bytes: Uint8Array): EventSourceMessage[] {
    this.#parser.feed(this.#text.decode(bytes, { stream: true }));
    if (this.#overflow) throw new SseOverflowError('an SSE event exceeded the size limit');
    const events = this.#ready;
    this.#ready = [];
    return events;
  }
}
