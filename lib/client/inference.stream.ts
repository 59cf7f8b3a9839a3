import { Observable, type Subscriber, type TeardownLogic } from 'rxjs';
import type { ChatCompletionChunk } from './chat.types.js';

/**
 * The chunks of one network read, handed on together, each with its `data` text as the provider
 * sent it (`undefined` where the chunk was changed, or its text cannot be forwarded): a relay
 * writes a batch at once, and the provider's bytes rather than the chunks serialised again.
 */
export interface StreamBatch {
  readonly chunks: readonly ChatCompletionChunk[];
  readonly texts: readonly (string | undefined)[];
}

/** Starts one upstream stream; the signal aborts it. */
export type StreamSource = (signal: AbortSignal) => AsyncGenerator<StreamBatch, void, undefined>;

/** Thrown when a stream is consumed a second time: each consumption would be a paid upstream call. */
export class StreamConsumedError extends Error {
  constructor() {
    super(
      'This inference stream was already subscribed to or iterated. A stream makes one upstream call and can be consumed once: use tee() for a second consumer, or call stream() again for a new call.',
    );
    this.name = 'StreamConsumedError';
  }
}

/** Reads a stream's batches (set in the class's static block; see `batchesOf`). */
let takeBatches: (stream: InferenceStream) => AsyncIterator<StreamBatch>;

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

  static {
    takeBatches = (stream) => {
      const controller = new AbortController();
      return new Batches(stream.#take(controller.signal), controller);
    };
  }

  constructor(private readonly open: StreamSource) {
    super((subscriber) =>
      relay(
        subscriber,
        () => takeBatches(this),
        (chunk) => chunk,
      ),
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk> {
    const controller = new AbortController();
    return new Chunks(new Batches(this.#take(controller.signal), controller));
  }

  /**
   * Two streams over this one upstream call, each consumed once, at its own pace: chunks the
   * slower one has not read yet are held for it. The call starts when either starts, and is
   * aborted only when both have stopped. Consumes this stream. Both branches share the chunk
   * objects, so what one consumer changes in place the other sees, and a relay of a branch
   * serialises its chunks rather than forwarding the provider's text.
   */
  tee(): [InferenceStream, InferenceStream] {
    const source = new TeeSource(this, 2);
    return [
      new InferenceStream((signal) => source.branch(0, signal)),
      new InferenceStream((signal) => source.branch(1, signal)),
    ];
  }

  #take(signal: AbortSignal): AsyncGenerator<StreamBatch, void, undefined> {
    if (this.#consumed) throw new StreamConsumedError();
    this.#consumed = true;
    return this.open(signal);
  }
}

/**
 * The batches of `source` when it is an `InferenceStream` (consuming it), for a relay that
 * forwards the provider's text (`sendSse`, `toSseEvents`); undefined for any other iterable or
 * Observable, such as a `map()` of a stream, whose chunks may have been changed in place.
 * Internal: not exported by the package.
 */
export function batchesOf(source: unknown): AsyncIterator<StreamBatch> | undefined {
  return source instanceof InferenceStream ? takeBatches(source) : undefined;
}

/**
 * The chunks of an `InferenceStream` as an Observable of `each(chunk, text)`: what `toSseEvents`
 * makes of the stream itself (the provider's text where nothing changed the chunk). Consumes it.
 */
export function observeChunks<T>(
  stream: InferenceStream,
  each: (chunk: ChatCompletionChunk, text: string | undefined) => T,
): Observable<T> {
  return new Observable((subscriber) => relay(subscriber, () => takeBatches(stream), each));
}

/**
 * Hands `subscriber` each chunk of the batches `take` starts, as `each` makes it; unsubscribing
 * aborts the upstream call.
 */
function relay<T>(
  subscriber: Subscriber<T>,
  take: () => AsyncIterator<StreamBatch>,
  each: (chunk: ChatCompletionChunk, text: string | undefined) => T,
): TeardownLogic {
  let batches: AsyncIterator<StreamBatch>;
  try {
    batches = take();
  } catch (error) {
    subscriber.error(error);
    return;
  }
  void (async () => {
    try {
      for (let next = await batches.next(); !next.done; next = await batches.next()) {
        const { chunks, texts } = next.value;
        for (let i = 0; i < chunks.length; i++) {
          if (subscriber.closed) return;
          subscriber.next(each(chunks[i]!, texts[i]));
        }
      }
      subscriber.complete();
    } catch (error) {
      subscriber.error(error);
    }
  })();
  return () => void batches.return?.().catch(() => undefined);
}

/** A stream's batches; `return()` aborts the upstream call, then ends its generator. */
class Batches implements AsyncIterator<StreamBatch> {
  constructor(
    private readonly generator: AsyncGenerator<StreamBatch, void, undefined>,
    private readonly controller: AbortController,
  ) {}

  next(): Promise<IteratorResult<StreamBatch>> {
    return this.generator.next();
  }

  async return(): Promise<IteratorResult<StreamBatch>> {
    this.controller.abort();
    await this.generator.return(undefined);
    return { done: true, value: undefined };
  }
}

/** A stream's chunks one at a time, from its batches. */
class Chunks implements AsyncIterator<ChatCompletionChunk> {
  #batch: readonly ChatCompletionChunk[] = [];
  #index = 0;

  constructor(private readonly batches: AsyncIterator<StreamBatch>) {}

  async next(): Promise<IteratorResult<ChatCompletionChunk>> {
    while (this.#index >= this.#batch.length) {
      const next = await this.batches.next();
      if (next.done) return { done: true, value: undefined };
      this.#batch = next.value.chunks;
      this.#index = 0;
    }
    return { done: false, value: this.#batch[this.#index++]! };
  }

  async return(): Promise<IteratorResult<ChatCompletionChunk>> {
    await this.batches.return!();
    return { done: true, value: undefined };
  }
}

/**
 * The texts of a batch whose chunks are serialised when written: a `tee()` branch's (its chunks
 * are shared with the other branch), or any other iterable's.
 */
export const NO_TEXTS: readonly undefined[] = [];

/** One upstream read by several branches; each branch holds what it has not read yet. */
class TeeSource {
  readonly #queues: ChatCompletionChunk[][];
  readonly #active: boolean[];
  #upstream: AsyncIterator<StreamBatch> | undefined;
  #pulling: Promise<void> | undefined;
  #ended = false;
  #error: unknown;
  #failed = false;

  constructor(
    private readonly stream: InferenceStream,
    branches: number,
  ) {
    this.#queues = Array.from({ length: branches }, () => []);
    this.#active = Array.from({ length: branches }, () => true);
  }

  async *branch(index: number, signal: AbortSignal): AsyncGenerator<StreamBatch, void> {
    this.#upstream ??= takeBatches(this.stream);
    const queue = this.#queues[index]!;
    const stop = () => this.#leave(index);
    signal.addEventListener('abort', stop, { once: true });
    try {
      for (;;) {
        if (queue.length > 0) {
          yield { chunks: queue.splice(0), texts: NO_TEXTS };
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

  /** Reads one more batch from upstream for every branch still reading; one read at a time. */
  #pull(): Promise<void> {
    this.#pulling ??= this.#upstream!.next()
      .then(
        ({ value, done }) => {
          if (done) this.#ended = true;
          else this.#queues.forEach((queue, i) => this.#active[i] && queue.push(...value.chunks));
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
      void this.#upstream?.return?.().catch(() => undefined);
    }
  }
}
