import type { CompletionUsage } from '../client/chat.types.js';
import type { ModelPrice } from '../options/inference-options.interface.js';

/** A call's cost in US dollars. */
export interface CallCost {
  usd: number;
  /** True when the provider reported no usage (a cancelled or cut stream) and it was estimated. */
  estimated: boolean;
}

const PER_TOKEN = 1 / 1_000_000;

/** Price × usage: uncached prompt tokens, cached prompt tokens and completion tokens. */
export function costOf(usage: CompletionUsage, price: Readonly<Required<ModelPrice>>): number {
  const cached = Math.min(usage.prompt_tokens, usage.prompt_tokens_details?.cached_tokens ?? 0);
  return (
    ((usage.prompt_tokens - cached) * price.input +
      cached * price.cachedInput +
      usage.completion_tokens * price.output) *
    PER_TOKEN
  );
}

/**
 * The usage of a call the provider did not report on: prompt tokens estimated at four
 * characters each (the common rule of thumb for English with OpenAI's tokenizers), and one token
 * per content chunk received, which is how providers stream.
 */
export function estimatedUsage(promptCharacters: number, chunks: number): CompletionUsage {
  const prompt = Math.ceil(promptCharacters / 4);
  return { prompt_tokens: prompt, completion_tokens: chunks, total_tokens: prompt + chunks };
}
