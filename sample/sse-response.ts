import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { InferenceError, openAiErrorBody, type ChatCompletionChunk } from 'nestjs-inference';

/**
 * Writes a stream of chunks as OpenAI-style Server-Sent Events. The status line waits for the
 * first chunk, so a failure before any content still reaches the client as a real HTTP error
 * (thrown, for the exception filter). After that, a failure becomes an error event and the
 * stream ends without `[DONE]`. A client that disconnects cancels the upstream call.
 */
export async function writeSse(
  chunks: AsyncIterable<ChatCompletionChunk>,
  response: ServerResponse,
  beforeFirstWrite: () => void = () => undefined,
): Promise<void> {
  const iterator = chunks[Symbol.asyncIterator]();
  const onClose = () => void iterator.return?.();
  response.once('close', onClose);
  try {
    let next = await iterator.next(); // throws before anything is written: the filter answers
    beforeFirstWrite();
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    try {
      while (!next.done) {
        await write(response, `data: ${JSON.stringify(next.value)}\n\n`);
        next = await iterator.next();
      }
      await write(response, 'data: [DONE]\n\n');
    } catch (error) {
      if (error instanceof InferenceError && !response.destroyed) {
        await write(response, `data: ${JSON.stringify(openAiErrorBody(error))}\n\n`);
      }
    }
    response.end();
  } finally {
    response.off('close', onClose);
  }
}

async function write(response: ServerResponse, text: string): Promise<void> {
  if (response.destroyed) throw new Error('client disconnected');
  if (!response.write(text)) {
    await Promise.race([once(response, 'drain'), once(response, 'close')]);
  }
}
