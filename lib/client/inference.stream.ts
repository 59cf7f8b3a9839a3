import { Observable } from 'rxjs';
import type { ChatCompletionChunk } from './chat.types.js';

/** Starts one upstream stream; the signal aborts it. */
export type StreamSource = (
  signal: AbortSignal,
) => AsyncGenerator<ChatCompletionChunk, void, undefined>;

/**
 * A streamed completion. It is an RxJS `Observable` (return it from an `@Sse()` handler after a
 * `map`, or subscribe to it) and an async iterable (`for await`). It is cold: each subscription or
 * iteration makes its own upstream call. Unsubscribing, or leaving the loop early, aborts the
 * upstream request and frees its socket.
 */
export class InferenceStream
  extends Observable<ChatCompletionChunk>
  implements AsyncIterable<ChatCompletionChunk>
{
  constructor(private readonly open: StreamSource) {
    super((subscriber) => {
      const controller = new AbortController();
      void (async () => {
        try {
          for await (const chunk of open(controller.signal)) {
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
    const generator = this.open(controller.signal);
    return {
      next: () => generator.next(),
      return: async () => {
        controller.abort();
        await generator.return(undefined);
        return { done: true, value: undefined };
      },
    };
  }
}
