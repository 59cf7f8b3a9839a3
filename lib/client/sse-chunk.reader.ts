import type { EventSourceMessage } from 'eventsource-parser';
import type { ChatCompletionChunk } from './chat.types.js';
import { setUnrefTimeout, systemClock } from './clock.js';
import { DISCARD_BOUNDS, type BodyWatch } from './response-body.js';
import { SseDecoder } from './sse.decoder.js';
import { upstreamErrorOf } from './upstream-error.js';
import { UpstreamFault } from './upstream-fault.js';

const NO_WATCH: BodyWatch = { waiting: () => undefined, received: () => undefined };

/** Error types a provider may put in a stream's error frame that are worth another attempt. */
const TRANSIENT_FRAME = /overload|server_error|rate_limit|timeout|unavailable/i;

/**
 * Pulls chat-completion chunks out of an SSE body one at a time, so the caller's pace is the
 * network's pace (no unbounded buffering). Ends at `[DONE]`; an end of body before it is a fault.
 * Only events are progress for the idle and first-chunk budgets: a read that brings nothing but
 * comments (`: keep-alive`) leaves the running wait as it is.
 */
export class SseChunkReader {
  readonly #body: AsyncIterator<Uint8Array>;
  readonly #decoder = new SseDecoder();
  #events: EventSourceMessage[] = [];
  #next = 0;
  #done = false;
  /** Whether a chunk with content was read (see `carriesContent`). */
  #answered = false;
  /**
   * The `data` text of the chunk `take()` returned last, as the provider sent it: a relay forwards
   * it instead of serialising the chunk again. Undefined when it spans several `data:` lines
   * (joined by line breaks, which one SSE line cannot carry).
   */
  text: string | undefined;

  /**
   * @param watch told when the reader starts and stops waiting for the network (idle timeout).
   * @param destroy destroys the body, when what follows `[DONE]` runs past `DISCARD_BOUNDS`.
   */
  constructor(
    body: AsyncIterable<Uint8Array>,
    private readonly watch: BodyWatch = NO_WATCH,
    private readonly destroy: () => void = () => undefined,
  ) {
    this.#body = body[Symbol.asyncIterator]();
  }

  /** True once `[DONE]` was read. */
  get done(): boolean {
    return this.#done;
  }

  /** The next chunk, or undefined after `[DONE]`. */
  async read(): Promise<ChatCompletionChunk | undefined> {
    for (;;) {
      const chunk = this.take();
      if (chunk !== null) return chunk;
      await this.fill();
    }
  }

  /**
   * The next chunk already received, without waiting: undefined after `[DONE]`, null when more
   * bytes are needed (then call `fill()`). Most chunks arrive several to a network read, so this
   * spares a promise per chunk.
   */
  take(): ChatCompletionChunk | undefined | null {
    while (this.#next < this.#events.length) {
      const chunk = this.#parse(this.#events[this.#next++]!);
      if (chunk === null) continue;
      if (!this.#answered && chunk !== undefined && carriesContent(chunk)) {
        this.#answered = true;
        this.watch.answered?.();
      }
      return chunk;
    }
    return this.#done ? undefined : null;
  }

  /** Waits for the next network read and decodes it. */
  async fill(): Promise<void> {
    this.watch.waiting();
    const { value, done } = await this.#body.next();
    if (done) {
      this.watch.received();
      throw new UpstreamFault('incomplete', 'the stream ended without [DONE]', true);
    }
    this.#events = this.#decoder.push(value);
    this.#next = 0;
    if (this.#events.length > 0) this.watch.received();
  }

  /**
   * After `[DONE]`: reads what is left in the background, so the socket goes back to the pool,
   * and destroys the body if the upstream keeps it open or sends too much. The call is over
   * already: nothing here can fail it.
   */
  release(): void {
    const clock = this.watch.clock ?? systemClock;
    const timer = setUnrefTimeout(clock, this.destroy, DISCARD_BOUNDS.maxMs);
    void (async () => {
      let size = 0;
      for (;;) {
        const { value, done } = await this.#body.next();
        if (done) return;
        size += value.length;
        if (size > DISCARD_BOUNDS.maxBytes) return this.destroy();
      }
    })()
      .catch(() => undefined)
      .finally(() => clock.clearTimeout(timer));
  }

  /** A chunk; undefined for `[DONE]`; null for an event to skip. */
  #parse(event: EventSourceMessage): ChatCompletionChunk | undefined | null {
    const data = event.data;
    if (data === '[DONE]') {
      this.#done = true;
      this.#events = [];
      return undefined;
    }
    if (data === '') return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      throw new UpstreamFault('protocol', 'a stream event is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null) {
      throw new UpstreamFault('protocol', 'a stream event is not a JSON object');
    }
    const record = parsed as Record<string, unknown>;
    // Some providers send `"error": null` on every chunk: only an error that is there is one.
    if ((record.error !== undefined && record.error !== null) || event.event === 'error') {
      const upstream = upstreamErrorOf(record.error === undefined ? { error: record } : record);
      const kind = `${upstream?.type ?? ''} ${upstream?.code ?? ''}`;
      throw new UpstreamFault(
        'error-frame',
        `the stream carried an error: ${upstream?.message ?? 'no message'}`,
        TRANSIENT_FRAME.test(kind),
        upstream,
      );
    }
    if (!Array.isArray(record.choices)) {
      throw new UpstreamFault('protocol', 'a stream event has no choices array');
    }
    this.text = data.includes('\n') ? undefined : data;
    return parsed as ChatCompletionChunk;
  }
}

/**
 * Whether a chunk carries some of the answer: a delta with anything but the role (content, tool
 * calls, reasoning, a refusal), a finish reason, or usage. The first such chunk ends a stream's
 * first-chunk budget.
 */
function carriesContent(chunk: ChatCompletionChunk): boolean {
  if (chunk.usage) return true;
  for (const choice of chunk.choices) {
    if (choice.finish_reason) return true;
    const delta = choice.delta as Record<string, unknown> | undefined;
    for (const key in delta) {
      const value = delta[key];
      if (key !== 'role' && value !== null && value !== undefined && value !== '') return true;
    }
  }
  return false;
}
