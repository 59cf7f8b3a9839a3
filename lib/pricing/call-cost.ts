import { group, optional, range, record, shown, type TableOf } from '../rules/index.js';

/** A model's price in US dollars per million tokens. */
export interface ModelPrice {
  input: number;
  /** Prompt tokens served from the provider's cache. Default: the input price. */
  cachedInput?: number;
  output: number;
}

const dollars = {
  rule: range(0, Number.MAX_VALUE),
  hint: (value: unknown) =>
    `must be a number of US dollars per million tokens, 0 or more, got ${shown(value)}.`,
};

const PRICE = {
  input: dollars,
  cachedInput: { ...dollars, rule: optional(dollars.rule), nullIsDefault: true },
  output: dollars,
} satisfies TableOf<ModelPrice>;

/** `providers.<name>.prices`: dollars per million tokens by model name; `cachedInput` filled in. */
export const pricesRule = record(
  group(PRICE, ({ input, cachedInput = input, output }) => ({ input, cachedInput, output })),
);

/** A call's cost in US dollars. */
export interface CallCost {
  usd: number;
  /** True when the provider reported no usage (a cancelled or cut stream) and it was estimated. */
  estimated: boolean;
}

/** The token counts a price applies to, as OpenAI-compatible providers report them. */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

/** What a call's cost can be estimated from when the provider reported no usage. */
export interface UsageEstimate {
  /** The prompt's messages: serialised (to count their characters) only when an estimate is needed. */
  messages: unknown;
  /** Content chunks received. */
  chunks: number;
}

const PER_TOKEN = 1 / 1_000_000;

/** Price × usage: uncached prompt tokens, cached prompt tokens and completion tokens. */
export function costOf(usage: TokenUsage, price: Readonly<Required<ModelPrice>>): number {
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
export function estimatedUsage(promptCharacters: number, chunks: number): TokenUsage {
  const prompt = Math.ceil(promptCharacters / 4);
  return { prompt_tokens: prompt, completion_tokens: chunks, total_tokens: prompt + chunks };
}

/**
 * A call's cost from a provider's `prices` (by its own model name): exact from the usage it
 * reported, else estimated when `estimate` is given, else unknown. Undefined without a price.
 */
export function costOfCall(
  prices: ReadonlyMap<string, Readonly<Required<ModelPrice>>>,
  model: string,
  usage: TokenUsage | undefined,
  estimate?: UsageEstimate,
): CallCost | undefined {
  const price = prices.get(model);
  if (!price) return undefined;
  if (usage) return { usd: costOf(usage, price), estimated: false };
  if (!estimate) return undefined;
  const estimated = estimatedUsage(JSON.stringify(estimate.messages).length, estimate.chunks);
  return { usd: costOf(estimated, price), estimated: true };
}
