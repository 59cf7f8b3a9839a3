import type { ChatCompletionChunk, ChatCompletionChunkChoice } from './chat.types.js';

/**
 * A stream chunk's part of the first choice (`index` 0), if it has one. With `n` above 1 a
 * provider interleaves the choices, one or more per chunk, each with its `index`: the summary,
 * the judge and the quality signals read the first choice alone.
 */
export function firstChoiceOf(chunk: ChatCompletionChunk): ChatCompletionChunkChoice | undefined {
  const choices = chunk.choices;
  if (!choices) return undefined;
  const head = choices[0];
  if (head === undefined || (head.index ?? 0) === 0) return head;
  return choices.find((choice) => (choice.index ?? 0) === 0);
}
