import type { Dispatcher } from 'undici';
import type { ChatCompletionChunk, ChatCompletionRequest } from './chat.types.js';
import type { ProviderTransport } from './provider-transport.js';
import type { Attempt } from './retry-loop.js';
import { SseChunkReader } from './sse-chunk.reader.js';
import type { UpstreamCall } from './upstream-call.js';

/** A streamed completion whose first chunk is in hand: what its reader goes on from. */
export interface OpenStream {
  attempt: Attempt;
  response: Dispatcher.ResponseData;
  reader: SseChunkReader;
  /** The first chunk; undefined when the stream was `[DONE]` at once. */
  first: ChatCompletionChunk | undefined;
}

/**
 * The body of a streamed request: `stream: true`, and usage asked for when the provider's
 * `streamUsage` is on, so cost is known (the extra chunk is dropped if the caller did not ask).
 */
export function streamBody(request: ChatCompletionRequest, streamUsage: boolean): string {
  return JSON.stringify(
    streamUsage
      ? {
          ...request,
          stream: true,
          stream_options: { ...request.stream_options, include_usage: true },
        }
      : { ...request, stream: true },
  );
}

/**
 * One attempt at opening a stream: sent, its headers checked, and read until the first chunk, so
 * a failure before any content is retried like a unary call's. The body is destroyed when the
 * attempt fails.
 */
export async function openStreamAttempt(
  transport: ProviderTransport,
  body: string,
  call: UpstreamCall,
  attempt: Attempt,
): Promise<OpenStream> {
  const response = await transport.send('chat', body, true, call, attempt);
  const timeToHeadersMs = call.scope.elapsedMs();
  attempt.phase = 'body';
  const reader = new SseChunkReader(response.body, attempt.scope, () => response.body.destroy());
  try {
    const first = await reader.read();
    // Only a stream that opened was answered: one that failed before its first chunk was not.
    call.timeToHeadersMs = timeToHeadersMs;
    return { attempt, response, reader, first };
  } catch (error) {
    response.body.destroy();
    throw error;
  }
}

/**
 * The chunk as the caller would have seen it without `include_usage`; undefined to drop it. The
 * chunk was parsed for this call alone, so it is changed in place.
 */
export function withoutUsage(chunk: ChatCompletionChunk): ChatCompletionChunk | undefined {
  if (!('usage' in chunk)) return chunk;
  if (chunk.choices.length === 0) return undefined;
  delete chunk.usage;
  return chunk;
}

/**
 * The wire text of the chunk `withoutUsage` makes of one that carried `"usage":null` (which
 * providers put on every chunk once usage is asked for): the provider's text without that member,
 * when it is written without spaces, as OpenAI writes it; undefined otherwise (the chunk is then
 * serialised). Inside a JSON string the quotes would be escaped, so the match is the member.
 */
export function textWithoutNullUsage(text: string): string | undefined {
  let at = text.indexOf(',"usage":null');
  if (at >= 0) return text.slice(0, at) + text.slice(at + 13);
  at = text.indexOf('"usage":null,');
  return at >= 0 ? text.slice(0, at) + text.slice(at + 13) : undefined;
}
