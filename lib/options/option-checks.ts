import { headerProblem } from '../client/header-rules.js';
import { MAX_DURATION_MS } from './option.defaults.js';
import { OptionMessages as M } from './option.messages.js';

/** Problems found so far; every check adds to it, so one failed start lists them all. */
export type Problems = string[];
export type Dict = Record<string, unknown>;
type NumberCheck = (value: unknown, path: string, field: string) => number | boolean | string;

/** Fills a group of numeric options (timeouts, retry, pool) from its defaults, checking each. */
export function resolveNumbers<T extends object>(
  value: unknown,
  path: string,
  defaults: Readonly<T>,
  keys: readonly string[],
  problems: Problems,
  check: NumberCheck,
): T | undefined {
  if (value === undefined) return { ...defaults };
  if (!isDict(value)) {
    problems.push(M.notAnObject(path));
    return undefined;
  }
  checkKeys(value, path, keys, problems);
  const result: Dict = { ...defaults };
  let ok = true;
  for (const key of keys) {
    if (value[key] === undefined) continue;
    const checked = check(value[key], `${path}.${key}`, key);
    if (typeof checked === 'string') {
      problems.push(checked);
      ok = false;
    } else {
      result[key] = checked;
    }
  }
  return ok ? (result as T) : undefined;
}

export function positiveDuration(value: unknown, path: string): number | string {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    return M.notPositiveInteger(path, value);
  }
  if (value > MAX_DURATION_MS) return M.tooLarge(path, value, MAX_DURATION_MS);
  return value;
}

/**
 * The problem with one budget a route or a call sets (a `CALL_TIMEOUT_FIELDS` field), if any.
 * Routes (at startup) and calls share this rule, so a route's budget is never refused by its
 * calls. Fractions are fine; `headersMs: 0` turns that budget off.
 */
export function callBudgetProblem(path: string, field: string, value: unknown): string | undefined {
  const min = field === 'headersMs' ? 0 : Number.MIN_VALUE;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    return M.notABudget(path, value, min === 0);
  }
  if (value > MAX_DURATION_MS) return M.tooLarge(path, value, MAX_DURATION_MS);
  return undefined;
}

export function boundedInteger(
  value: unknown,
  path: string,
  min: number,
  max: number,
): number | string {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    return min === 0 ? M.notNonNegativeInteger(path, value) : M.notPositiveInteger(path, value);
  }
  if (value > max) return M.tooLarge(path, value, max);
  return value;
}

export function requiredString(
  value: unknown,
  path: string,
  hint: string,
  problems: Problems,
): string | undefined {
  if (value === undefined || value === null) {
    problems.push(M.missing(path, hint));
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.push(M.notAString(path, hint));
    return undefined;
  }
  if (value.trim().length === 0) {
    problems.push(M.blank(path, hint));
    return undefined;
  }
  return value.trim();
}

export function checkKeys(
  value: Dict,
  path: string,
  allowed: readonly string[],
  problems: Problems,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.push(M.unknownKey(path ? `${path}.${key}` : key, allowed));
  }
}

export function isSet(group: unknown, field: string): boolean {
  return isDict(group) && group[field] !== undefined;
}

export function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A map of extra headers: string values without line breaks, names lowercased. Names in
 * `reserved` (those the client sets itself) are refused.
 */
export function resolveHeaders(
  value: unknown,
  path: string,
  problems: Problems,
  reserved: ReadonlySet<string> = new Set(),
): Record<string, string> | undefined {
  if (value === undefined) return {};
  if (!isDict(value)) {
    problems.push(M.notAnObject(path));
    return undefined;
  }
  const headers: Record<string, string> = {};
  let ok = true;
  for (const [header, headerValue] of Object.entries(value)) {
    const headerPath = `${path}.${header}`;
    if (reserved.has(header.toLowerCase())) {
      problems.push(M.reservedHeader(headerPath));
      ok = false;
    } else if (headerProblem(header, headerValue) !== undefined) {
      problems.push(M.badHeader(headerPath));
      ok = false;
    } else {
      headers[header.toLowerCase()] = headerValue as string;
    }
  }
  return ok ? headers : undefined;
}
