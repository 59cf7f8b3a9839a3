import { Observable } from 'rxjs';
import type { ChatCompletionChunk } from './chat.types.js';

/** Starts one upstream stream; the signal aborts it. */
export type StreamSource = (
  signal: AbortSignal,
) => AsyncGenerator<ChatCompletionChunk, void, undefined>;

/** Thrown when a stream is consumed a second time: each consumption would be a paid upstream call. */
export class StreamConsumedError extends Error {
  constructor() {
    super(
      'This inference stream was already subscribed to or iterated. A stream makes one upstream call and can be consumed once: use tee() for a second consumer, or call stream() again for a new call.',
    );
    this.name = 'StreamConsumedError';
  }
}

/** Reads a stream's private mark of owning its chunks (set in the class's static block). */
let ownsItsChunks: (stream: InferenceStream) => boolean;

/**
 * A streamed completion. It is an RxJS `Observable` (return it from an `@Sse()` handler after a
 * `map`, or subscribe to it) and an async iterable (`for await`). It is single-use: the first
 * subscription or iteration makes the upstream call, a second one fails with
 * `StreamConsumedError` rather than paying for another; `tee()` gives two consumers of one call.
 * Unsubscribing, or leaving the loop early, aborts the upstream request and frees its socket.
 */
export class InferenceStream
  extends Observable<ChatCompletionChunk>
  implements AsyncIterable<ChatCompletionChunk>
{
  #consumed = false;
  /**
   * False for a `tee()` branch: its chunks are the same objects as the other branch's, and that
   * branch's consumer may change them in place.
   */
  #ownsChunks = true;

  static {
    ownsItsChunks = (stream) => stream.#ownsChunks;
  }

  constructor(private readonly open: StreamSource) {
    super((subscriber) => {
      const controller = new AbortController();
      let generator: AsyncGenerator<ChatCompletionChunk, void, undefined>;
      try {
        generator = this.#take(controller.signal);
      } catch (error) {
        subscriber.error(error);
        return;
      }
      void (async () => {
        try {
          for await (const chunk of generator) {
            if (subscriber.closed) return;
            subscriber.next(chunk);
          }
          subscriber.complete();
        } catch (error) {
          subscriber.error(error);
        }
      })();
      return () => controller.abort();
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk> {
    const controller = new AbortController();
    const generator = this.#take(controller.signal);
    return {
      next: () => generator.next(),
      return: async () => {
        controller.abort();
        await generator.return(undefined);
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * Two streams over this one upstream call, each consumed once, at its own pace: chunks the
   * slower one has not read yet are held for it. The call starts when either starts, and is
   * aborted only when both have stopped. Consumes this stream.
   */
  tee(): [InferenceStream, InferenceStream] {
    const source = new TeeSource(this.#take.bind(this), 2);
    const branches: [InferenceStream, InferenceStream] = [
      new InferenceStream((signal) => source.branch(0, signal)),
      new InferenceStream((signal) => source.branch(1, signal)),
    ];
    for (const branch of branches) branch.#ownsChunks = false;
    return branches;
  }

  #take(signal: AbortSignal): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    if (this.#consumed) throw new StreamConsumedError();
    this.#consumed = true;
    return this.open(signal);
  }
}

/**
 * Whether a relay may write the chunks of `source` as their wire text (see `wire-text.ts`): only
 * when it is an `InferenceStream` that is not a `tee()` branch, so its chunks come from the
 * provider to the relay untouched, or were changed by the stream itself, which then dropped
 * their text. Anything else (a `map()` of a stream, the caller's own iterable) may hold chunks
 * changed in place, and is serialised. Internal: not exported by the package.
 */
export function forwardsWireText(source: unknown): boolean {
  return source instanceof InferenceStream && ownsItsChunks(source);
}

/** One upstream generator read by several branches; each branch holds what it has not read yet. */
class TeeSource {
  readonly #controller = new AbortController();
  readonly #queues: ChatCompletionChunk[][];
  readonly #active: boolean[];
  #upstream: AsyncGenerator<ChatCompletionChunk, void, undefined> | undefined;
  #pulling: Promise<void> | undefined;
  #ended = false;
  #error: unknown;
  #failed = false;

  constructor(
    private readonly take: (signal: AbortSignal) => AsyncGenerator<ChatCompletionChunk, void>,
    branches: number,
  ) {
    this.#queues = Array.from({ length: branches }, () => []);
    this.#active = Array.from({ length: branches }, () => true);
  }

  async *branch(index: number, signal: AbortSignal): AsyncGenerator<ChatCompletionChunk, void> {
    this.#upstream ??= this.take(this.#controller.signal);
    const queue = this.#queues[index]!;
    const stop = () => this.#leave(index);
    signal.addEventListener('abort', stop, { once: true });
    try {
      for (;;) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (this.#failed) throw this.#error;
        if (this.#ended) return;
        await this.#pull();
      }
    } finally {
      signal.removeEventListener('abort', stop);
      this.#leave(index);
    }
  }

  /** Reads one more chunk from upstream for every branch still reading; one read at a time. */
  #pull(): Promise<void> {
    this.#pulling ??= this.#upstream!.next()
      .then(
        ({ value, done }) => {
          if (done) this.#ended = true;
          else this.#queues.forEach((queue, i) => this.#active[i] && queue.push(value));
        },
        (error: unknown) => {
          this.#failed = true;
          this.#error = error;
        },
      )
      .finally(() => {
        this.#pulling = undefined;
      });
    return this.#pulling;
  }

  #leave(index: number): void {
    if (!this.#active[index]) return;
    this.#active[index] = false;
    this.#queues[index]!.length = 0;
    if (this.#active.every((active) => !active) && !this.#ended && !this.#failed) {
      this.#controller.abort();
      void this.#upstream?.return(undefined).catch(() => undefined);
    }
  }
}
