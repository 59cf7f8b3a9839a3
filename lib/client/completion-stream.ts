import type { InferenceError } from '../errors/index.js';
import type { CallTracking } from './call-tracking.js';
import type { ChatCompletionChunk, StreamSummary } from './chat.types.js';
import type { ProviderHealth } from './provider-health.js';
import type { ProviderTransport } from './provider-transport.js';
import { withRetries, type Attempt, type RetryHooks } from './retry-loop.js';
import { SseChunkReader } from './sse-chunk.reader.js';
import type { Dispatcher } from 'undici';
import type { ProviderStreamOptions, ResolvedChatRequest } from './provider.client.js';
import { firstChoiceOf } from './first-choice.js';
import { dropWireText } from './wire-text.js';

interface OpenStream {
  attempt: Attempt;
  response: Dispatcher.ResponseData;
  reader: SseChunkReader;
  first: ChatCompletionChunk | undefined;
  timeToHeadersMs: number;
}

/**
 * One streamed completion on one provider. Failures are retried until the first chunk is in
 * hand; after that the caller has content, so a failure ends the stream with a typed error and
 * is never retried. `[DONE]` ends it: the caller's iteration ends and `onEnd` reports
 * `completed` at once, whatever the upstream then does with the body.
 */
export async function* completionStream(
  transport: ProviderTransport,
  health: ProviderHealth,
  request: ResolvedChatRequest,
  call: ProviderStreamOptions,
  retryHooks: Omit<RetryHooks, 'classify'>,
): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  const wantsUsage = request.stream_options?.include_usage === true;
  const body = JSON.stringify(
    transport.options.streamUsage
      ? {
          ...request,
          stream: true,
          // Ask for usage, so cost is known; the extra chunk is dropped if the caller did not ask.
          stream_options: { ...request.stream_options, include_usage: true },
        }
      : { ...request, stream: true },
  );
  const scope = transport.scope(call);
  const summary: StreamSummary = {
    provider: transport.name,
    model: request.model,
    requestId: call.requestId,
    attempts: 0,
    durationMs: 0,
    chunks: 0,
    outcome: 'aborted',
  };
  let open: OpenStream | undefined;
  let tracking: CallTracking | undefined;
  const classify = (thrown: unknown, attempt: Attempt): InferenceError =>
    transport.classify(thrown, scope, call.requestId, attempt);
  try {
    tracking = call.track?.((retryAfterMs) => scope.stop(retryAfterMs));
    open = await withRetries(
      scope,
      transport.retryPolicy(call),
      { ...retryHooks, classify },
      async (attempt) => {
        summary.attempts = attempt.number;
        const response = await transport.send('chat', body, true, scope, call, attempt);
        const timeToHeadersMs = scope.elapsedMs();
        attempt.phase = 'body';
        const reader = new SseChunkReader(response.body, attempt.scope, () =>
          response.body.destroy(),
        );
        try {
          const first = await reader.read();
          return { attempt, response, reader, first, timeToHeadersMs };
        } catch (error) {
          response.body.destroy();
          throw error;
        }
      },
    );
    summary.timeToHeadersMs = open.timeToHeadersMs;
    summary.upstreamRequestId = open.attempt.upstreamRequestId;
    const { reader } = open;
    let chunk: ChatCompletionChunk | undefined | null = open.first;
    while (chunk !== undefined) {
      if (chunk.usage) summary.usage = chunk.usage;
      if (chunk.model) summary.model = chunk.model;
      const finish = firstChoiceOf(chunk)?.finish_reason;
      if (finish) summary.finishReason = finish;
      const out = wantsUsage ? chunk : withoutUsage(chunk);
      if (out) {
        if (summary.chunks === 0) {
          summary.timeToFirstChunkMs = scope.elapsedMs();
          tracking?.streaming();
        }
        summary.chunks++;
        call.onChunk?.(out);
        yield out;
      }
      chunk = reader.take();
      while (chunk === null) {
        await reader.fill();
        chunk = reader.take();
      }
    }
    // `[DONE]`: the answer is whole. What the upstream does with the body now cannot change that.
    summary.outcome = 'completed';
    reader.release();
    health.succeeded();
  } catch (thrown) {
    // Failures before the stream opened are typed already; the rest are typed here, once.
    const error = open ? classify(thrown, open.attempt) : (thrown as InferenceError);
    summary.outcome = error.phase === 'aborted' ? 'aborted' : 'failed';
    summary.error = error;
    health.failed(error);
    throw error;
  } finally {
    if (summary.outcome !== 'completed') {
      // An early return() by the caller lands here too: free the socket and tell the upstream.
      scope.cancel();
      open?.response.body.destroy();
    }
    scope.dispose();
    summary.durationMs = scope.elapsedMs();
    tracking?.end();
    call.onEnd?.(summary);
  }
}

/**
 * The chunk as the caller would have seen it without `include_usage`; undefined to drop it. The
 * chunk was parsed for this call alone, so it is changed in place, and its wire text, which still
 * has the usage, is dropped: it is serialised again.
 */
function withoutUsage(chunk: ChatCompletionChunk): ChatCompletionChunk | undefined {
  if (!('usage' in chunk)) return chunk;
  if (chunk.choices.length === 0) return undefined;
  dropWireText(chunk);
  delete chunk.usage;
  return chunk;
}
