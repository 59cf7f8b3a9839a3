import { BadRequestException } from '@nestjs/common';

type Check = [param: string, ok: (value: unknown) => boolean, expected: string];

const isString = (value: unknown) => typeof value === 'string';
const isBoolean = (value: unknown) => typeof value === 'boolean';
const between = (min: number, max: number) => (value: unknown) =>
  typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
const positiveInteger = (value: unknown) =>
  typeof value === 'number' && Number.isInteger(value) && value > 0;

/** The chat fields the gateway relies on; any other field passes through untouched. */
const CHAT_FIELDS: readonly Check[] = [
  ['model', isString, 'a string'],
  ['stream', isBoolean, 'true or false'],
  ['temperature', between(0, 2), 'a number from 0 to 2'],
  ['top_p', between(0, 1), 'a number from 0 to 1'],
  ['max_tokens', positiveInteger, 'a positive integer'],
  ['max_completion_tokens', positiveInteger, 'a positive integer'],
  ['n', positiveInteger, 'a positive integer'],
  ['presence_penalty', between(-2, 2), 'a number from -2 to 2'],
  ['frequency_penalty', between(-2, 2), 'a number from -2 to 2'],
];

const EMBEDDING_FIELDS: readonly Check[] = [
  ['model', isString, 'a string'],
  ['dimensions', positiveInteger, 'a positive integer'],
  ['encoding_format', (value) => value === 'float' || value === 'base64', "'float' or 'base64'"],
];

/** Refuses a chat request the gateway cannot serve, with OpenAI's 400 naming the field. */
export function checkChatRequest(body: unknown): void {
  const record = objectBody(body);
  const messages = record.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalid('messages', 'messages must be a non-empty array of messages.');
  }
  messages.forEach((message: unknown, index) => {
    const role = (message as { role?: unknown } | null)?.role;
    if (typeof message !== 'object' || message === null || typeof role !== 'string') {
      throw invalid(`messages[${index}]`, `messages[${index}] must be an object with a role.`);
    }
    checkContent(message as Record<string, unknown>, role, index);
  });
  checkFields(record, CHAT_FIELDS);
}

/**
 * As OpenAI's API: a message has `content`, a string or a non-empty array of parts. An assistant
 * turn may carry instead what the model answered with: `tool_calls` (or the older
 * `function_call`), `audio` or a `refusal`; a legacy `function` message may have null content.
 */
function checkContent(message: Record<string, unknown>, role: string, index: number): void {
  const { content } = message;
  if (typeof content === 'string' || (Array.isArray(content) && content.length > 0)) return;
  const none = content === undefined || content === null || Array.isArray(content);
  if (role === 'function' && content === null) return;
  if (role === 'assistant' && none && ASSISTANT_ANSWERS.some((field) => message[field])) return;
  throw invalid(
    `messages[${index}].content`,
    role === 'assistant'
      ? `messages[${index}].content must be a string or an array of parts, unless the message has tool_calls, audio or a refusal.`
      : `messages[${index}].content must be a string or a non-empty array of parts.`,
  );
}

/** What an assistant turn may carry instead of content. */
const ASSISTANT_ANSWERS = ['tool_calls', 'function_call', 'audio', 'refusal'] as const;

/** Refuses an embeddings request the gateway cannot serve. */
export function checkEmbeddingRequest(body: unknown): void {
  const record = objectBody(body);
  const input = record.input;
  const ok =
    (typeof input === 'string' && input.length > 0) ||
    (Array.isArray(input) &&
      input.length > 0 &&
      input.every(
        (item) => typeof item === 'string' || typeof item === 'number' || Array.isArray(item),
      ));
  if (!ok) {
    throw invalid('input', 'input must be a non-empty string, or an array of strings or tokens.');
  }
  checkFields(record, EMBEDDING_FIELDS);
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid(null, 'The body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

function checkFields(record: Record<string, unknown>, checks: readonly Check[]): void {
  for (const [param, ok, expected] of checks) {
    const value = record[param];
    if (value !== undefined && value !== null && !ok(value)) {
      throw invalid(param, `${param} must be ${expected}, got ${JSON.stringify(value)}.`);
    }
  }
}

function invalid(param: string | null, message: string): BadRequestException {
  return new BadRequestException({
    error: { message, type: 'invalid_request_error', code: 'invalid_value', param },
  });
}
