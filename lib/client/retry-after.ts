import type { IncomingHttpHeaders } from 'node:http';

/**
 * The delay a provider asked for before a retry, in milliseconds: `retry-after-ms` first (as sent
 * by OpenAI), then `retry-after` in seconds or as an HTTP date. Undefined when absent or unreadable.
 */
export function retryAfterMs(headers: IncomingHttpHeaders, nowMs: number): number | undefined {
  const precise = single(headers['retry-after-ms']);
  if (precise !== undefined) {
    const ms = Number(precise);
    if (precise.trim() !== '' && Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  }
  const value = single(headers['retry-after']);
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil(date - nowMs));
}

/** `x-should-retry: true|false`, the provider's own verdict, which overrides the status. */
export function shouldRetryHeader(headers: IncomingHttpHeaders): boolean | undefined {
  const value = single(headers['x-should-retry'])?.trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
