import type { ServerResponse } from 'node:http';
import { catchError, endWith, map, of, type Observable } from 'rxjs';
import type { ChatCompletionChunk } from '../client/chat.types.js';
import { setUnrefTimeout, systemClock, type Clock } from '../client/clock.js';
import {
  batchesOf,
  InferenceStream,
  NO_TEXTS,
  observeChunks,
  type StreamBatch,
} from '../client/inference.stream.js';
import { InferenceError } from '../errors/inference.error.js';
import {
  openAiErrorBody,
  type InferenceErrorOptions,
  type OpenAiErrorBody,
} from '../errors/to-http-exception.js';

/** What Express hands a handler (Node's response), or Fastify (a reply around it). */
export type SseTarget = ServerResponse | { raw: ServerResponse; hijack(): void };

export interface SseResponseOptions {
  /**
   * Once the response headers are sent, write an SSE comment (`: keep-alive`) after this long
   * without a write, so proxies and clients with idle timeouts keep the connection. Default 0: off.
   */
  heartbeatMs?: number;
  /**
   * Send the response headers after this long without a first chunk, instead of waiting for it,
   * so a client sees the stream open while a slow (reasoning) model is silent. The trade-off: a
   * failure after that can no longer get an HTTP error status; it becomes an error event. Default:
   * wait for the first chunk, so a failure before any content is a real HTTP error.
   */
  commitAfterMs?: number;
  /** How errors are shown (see `InferenceErrorOptions`). */
  errors?: InferenceErrorOptions;
  /**
   * Times `heartbeatMs` and `commitAfterMs`, for tests (such as the module's `clock` option).
   * Default: the system clock.
   */
  clock?: Clock;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

/**
 * Writes a stream of chunks as OpenAI's Server-Sent Events (`data: {chunk}` … `data: [DONE]`),
 * with back-pressure: a slow reader slows the upstream, nothing piles up in memory.
 *
 * - The status line waits for the first chunk (or `commitAfterMs`): a failure before it is thrown
 *   to the caller, so the exception filter answers with a real HTTP status.
 * - A failure after it ends the stream with an error event in OpenAI's error shape and no
 *   `[DONE]` (the openai SDK raises it), whatever the error; the drain deadline's shutdown error
 *   arrives this way too.
 * - A client that disconnects cancels the upstream call. No listener is left behind.
 * - The stream of `InferenceService.stream()` itself is relayed as the provider sent it: what one
 *   upstream read brought is written at once, each chunk as the provider's `data` text unless the
 *   stream changed it. Any other iterable (a `map()` of a stream, a `tee()` branch, your own) may
 *   hold chunks changed in place, and is serialised chunk by chunk.
 */
export async function sendSse(
  chunks: AsyncIterable<ChatCompletionChunk>,
  target: SseTarget,
  options: SseResponseOptions = {},
): Promise<void> {
  const response = 'raw' in target ? target.raw : target;
  const iterator = batchesOf(chunks) ?? oneByOne(chunks);
  const onClose = () => void iterator.return?.().catch(() => undefined);
  response.once('close', onClose);
  const clock = options.clock ?? systemClock;
  const heartbeatMs = options.heartbeatMs;
  let heartbeat: unknown;
  let lastWrite = 0;
  // Every `heartbeatMs`, as an interval would, on a timer that never holds the process open.
  const beat = () => {
    if (clock.now() - lastWrite >= heartbeatMs! && !response.writableNeedDrain) {
      response.write(': keep-alive\n\n');
      lastWrite = clock.now();
    }
    heartbeat = setUnrefTimeout(clock, beat, heartbeatMs!);
  };
  const commit = () => {
    if (response.headersSent) return;
    if ('raw' in target) target.hijack(); // Fastify: the handler takes over the raw response
    response.writeHead(200, SSE_HEADERS);
    response.flushHeaders();
    lastWrite = clock.now();
    if (heartbeatMs) heartbeat = setUnrefTimeout(clock, beat, heartbeatMs);
  };
  const send = (text: string): Promise<void> | undefined => {
    lastWrite = clock.now();
    return write(response, text);
  };
  try {
    let next: IteratorResult<StreamBatch>;
    const first = iterator.next();
    if (options.commitAfterMs !== undefined) {
      const early = clock.setTimeout(commit, options.commitAfterMs);
      try {
        next = await first;
      } catch (error) {
        if (!response.headersSent) throw error; // nothing written: the filter answers
        return await endWithError(response, error, options);
      } finally {
        clock.clearTimeout(early);
      }
    } else {
      next = await first; // throws before anything is written: the filter answers
    }
    commit();
    try {
      // One write per batch (what one upstream read brought): the provider's text of each chunk
      // nothing changed, the others serialised.
      while (!next.done) {
        const { chunks: batch, texts } = next.value;
        let text = '';
        for (let i = 0; i < batch.length; i++) {
          text += `data: ${texts[i] ?? JSON.stringify(batch[i])}\n\n`;
        }
        const drained = send(text);
        if (drained) await drained; // back-pressure: the reader is slower than the upstream
        next = await iterator.next();
      }
      await send('data: [DONE]\n\n');
      response.end();
    } catch (error) {
      await endWithError(response, error, options);
    }
  } finally {
    if (heartbeat !== undefined) clock.clearTimeout(heartbeat);
    response.off('close', onClose);
  }
}

/** Any iterable of chunks as batches of one, serialised when written. */
function oneByOne(chunks: AsyncIterable<ChatCompletionChunk>): AsyncIterator<StreamBatch> {
  const iterator = chunks[Symbol.asyncIterator]();
  return {
    next: async () => {
      const next = await iterator.next();
      return next.done ? next : { done: false, value: { chunks: [next.value], texts: NO_TEXTS } };
    },
    return: async () => {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
  };
}

/**
 * For `@Sse()` handlers: the chunks as Nest message events, then `[DONE]`; a failure becomes an
 * error event in OpenAI's error shape and ends the stream without `[DONE]`, as `sendSse` does.
 * Nest sends the headers when the handler returns, so with `@Sse()` even a failure before the
 * first chunk is an event, not an HTTP status: use `sendSse` when that matters.
 */
export function toSseEvents(
  chunks: Observable<ChatCompletionChunk>,
  options: InferenceErrorOptions = {},
): Observable<{ data: ChatCompletionChunk | OpenAiErrorBody | string }> {
  return events(chunks).pipe(
    endWith({ data: '[DONE]' }),
    catchError((error: unknown) => of({ data: sseErrorBody(error, options) })),
  );
}

/**
 * Each chunk as an event: for an `InferenceStream` itself, the provider's text of a chunk nothing
 * changed (a string, which Nest writes as it is); for any other Observable, the chunk.
 */
function events(
  chunks: Observable<ChatCompletionChunk>,
): Observable<{ data: ChatCompletionChunk | string }> {
  return chunks instanceof InferenceStream
    ? observeChunks(chunks, (chunk, text) => ({ data: text ?? chunk }))
    : chunks.pipe(map((data) => ({ data })));
}

/** The error event that ends a stream after its first chunk, in OpenAI's error shape. */
export function sseErrorBody(
  error: unknown,
  options: InferenceErrorOptions = {},
  requestId = '',
): OpenAiErrorBody {
  if (error instanceof InferenceError) return openAiErrorBody(error, options);
  return {
    error: {
      message: 'The stream failed after it started.',
      type: 'server_error',
      code: 'stream_failed',
      param: null,
      request_id: requestId,
    },
  };
}

async function endWithError(
  response: ServerResponse,
  error: unknown,
  options: SseResponseOptions,
): Promise<void> {
  if (!response.destroyed) {
    const requestId = response.getHeader('x-request-id');
    const body = sseErrorBody(
      error,
      options.errors,
      typeof requestId === 'string' ? requestId : '',
    );
    await write(response, `data: ${JSON.stringify(body)}\n\n`)?.catch(() => undefined);
  }
  response.end();
}

/**
 * Writes; when the socket asks to wait, returns a promise of its drain (the waiters are removed
 * after), otherwise nothing, so a chunk that needs no wait costs no promise.
 */
function write(response: ServerResponse, text: string): Promise<void> | undefined {
  if (response.destroyed) return Promise.reject(new Error('The client disconnected.'));
  if (response.write(text)) return undefined;
  return new Promise((resolve, reject) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      if (response.destroyed) reject(new Error('The client disconnected.'));
      else resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
