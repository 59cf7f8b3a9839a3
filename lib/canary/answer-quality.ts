import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
} from '../client/chat.types.js';
import { firstChoiceOf } from '../client/first-choice.js';

/**
 * The quality signals read from an answer, each a share judged canary against stable. Codes are
 * only ever appended: replicas of two versions merge their counts by index.
 */
export const QUALITY_SIGNALS = [
  /** No text and no tool call. */
  'empty',
  /** `finish_reason: length`: cut at the token limit. */
  'truncated',
  /** `finish_reason: content_filter`. */
  'filtered',
  /** The request asked for JSON (`response_format`) and the text does not parse. */
  'invalid_json',
  /** A tool call whose arguments do not parse as JSON. */
  'bad_tool_arguments',
] as const;

export type QualitySignal = (typeof QUALITY_SIGNALS)[number];

/** Which answers a signal's share is of: every answer, JSON requests, or answers with tool calls. */
export const SIGNAL_BASE: Readonly<Record<QualitySignal, 'all' | 'json' | 'tools'>> = {
  empty: 'all',
  truncated: 'all',
  filtered: 'all',
  invalid_json: 'json',
  bad_tool_arguments: 'tools',
};

/** An answer as the comparisons read it: text, finish reason and tool calls. */
export interface Answer {
  text: string;
  finishReason: string | null | undefined;
  toolCalls: { name: string; arguments: string }[];
}

/** What is known of one answer's quality: a bit per signal, and which bases it belongs to. */
export interface AnswerQuality {
  /** Bit `i` set: `QUALITY_SIGNALS[i]` was seen. */
  flags: number;
  /** The request asked for JSON. */
  json: boolean;
  /** The answer made tool calls. */
  tools: boolean;
}

const bit = (signal: QualitySignal) => 1 << QUALITY_SIGNALS.indexOf(signal);

/** Whether the request asks for a JSON answer (`response_format` json_object or json_schema). */
export function asksForJson(request: ChatCompletionRequest): boolean {
  const format = request.response_format as { type?: unknown } | undefined;
  return format?.type === 'json_object' || format?.type === 'json_schema';
}

/** Whether the request offers tools (or functions) to the model. */
export function offersTools(request: ChatCompletionRequest): boolean {
  const tools = request.tools ?? request.functions;
  return Array.isArray(tools) && tools.length > 0;
}

export function qualityOf(request: ChatCompletionRequest, answer: Answer): AnswerQuality {
  const json = asksForJson(request);
  let flags = 0;
  if (answer.text.trim() === '' && answer.toolCalls.length === 0) flags |= bit('empty');
  if (answer.finishReason === 'length') flags |= bit('truncated');
  if (answer.finishReason === 'content_filter') flags |= bit('filtered');
  if (json && answer.toolCalls.length === 0 && !parses(answer.text)) flags |= bit('invalid_json');
  if (answer.toolCalls.some((call) => !parses(call.arguments))) flags |= bit('bad_tool_arguments');
  return { flags, json, tools: answer.toolCalls.length > 0 };
}

export function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The first choice of a unary answer. */
export function answerOf(completion: ChatCompletion): Answer {
  const choice = completion.choices[0];
  const content = choice?.message.content;
  const calls = choice?.message.tool_calls;
  return {
    text: typeof content === 'string' ? content : '',
    finishReason: choice?.finish_reason,
    toolCalls: Array.isArray(calls) ? calls.map(toolCallOf) : [],
  };
}

function toolCallOf(call: unknown): { name: string; arguments: string } {
  const fn = (call as { function?: { name?: unknown; arguments?: unknown } }).function;
  return {
    name: typeof fn?.name === 'string' ? fn.name : '',
    arguments: typeof fn?.arguments === 'string' ? fn.arguments : '',
  };
}

/** Puts a streamed answer back together, chunk by chunk (the first choice, `index` 0, only). */
export class AnswerCollector {
  #text = '';
  #finishReason: string | null | undefined;
  readonly #tools: { name: string; arguments: string }[] = [];

  add(chunk: ChatCompletionChunk): void {
    const choice = firstChoiceOf(chunk);
    if (!choice) return;
    const { content, tool_calls: calls } = choice.delta ?? {};
    if (typeof content === 'string') this.#text += content;
    if (choice.finish_reason) this.#finishReason = choice.finish_reason;
    if (!Array.isArray(calls)) return;
    for (const call of calls as {
      index?: number;
      function?: { name?: string; arguments?: string };
    }[]) {
      const index = call.index ?? 0;
      const tool = (this.#tools[index] ??= { name: '', arguments: '' });
      if (call.function?.name) tool.name += call.function.name;
      if (call.function?.arguments) tool.arguments += call.function.arguments;
    }
  }

  answer(finishReason?: string | null): Answer {
    return {
      text: this.#text,
      finishReason: finishReason ?? this.#finishReason,
      toolCalls: this.#tools.filter(Boolean),
    };
  }
}

/**
 * A cheap text similarity in [0, 1]: the Dice coefficient of the two texts' sets of words
 * (lower-cased, letters and digits). 1 for the same words, 0 for none in common; two empty
 * texts are identical.
 */
export function similarity(a: string, b: string): number {
  const left = words(a);
  const right = words(b);
  if (left.size === 0 && right.size === 0) return 1;
  let common = 0;
  for (const word of left) if (right.has(word)) common++;
  return (2 * common) / (left.size + right.size);
}

const WORD = /[\p{L}\p{N}]+/gu;

function words(text: string): Set<string> {
  // Bounded: a very long answer is compared on its first 20,000 characters.
  return new Set(text.slice(0, 20_000).toLowerCase().match(WORD) ?? []);
}
