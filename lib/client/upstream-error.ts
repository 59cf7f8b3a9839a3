import type { UpstreamErrorBody } from '../errors/index.js';

const MAX_QUOTED = 300;

/**
 * The error fields of a provider's JSON error, in a body or a stream's error frame: OpenAI's
 * `{"error":{message,type,code,param}}`, and the looser `{"error":"..."}`, `{"message":"..."}`
 * or `{"error":"TypeError","message":"..."}` (the name as `code`). Undefined when it names none.
 * Messages are cut at 300 characters; redact the text before calling.
 */
export function upstreamErrorOf(value: unknown): UpstreamErrorBody | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { error, message } = value as { error?: unknown; message?: unknown };
  const fields: Record<string, unknown> =
    typeof error === 'object' && error !== null
      ? (error as Record<string, unknown>)
      : typeof error === 'string' && typeof message === 'string'
        ? { message, code: error }
        : { message: error ?? message };
  const result: UpstreamErrorBody = {};
  for (const name of ['message', 'type', 'code', 'param'] as const) {
    const field = fields[name];
    // Some providers send numeric codes; they reach the caller as text.
    if (typeof field === 'string' || typeof field === 'number') {
      result[name] = name === 'message' ? truncate(String(field)) : String(field).slice(0, 200);
    }
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

/** The same, from a body's text; undefined when it is not JSON. */
export function upstreamErrorIn(body: string): UpstreamErrorBody | undefined {
  try {
    return upstreamErrorOf(JSON.parse(body));
  } catch {
    return undefined;
  }
}

export function truncate(text: string): string {
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
}
