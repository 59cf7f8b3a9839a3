import { validateHeaderName, validateHeaderValue } from 'node:http';
import { OptionWords as W } from './option.messages.js';
import { INVALID, isDict, type At, type Rule } from './option-table.js';

/*
 * The rule vocabulary every option table is written in. Each rule checks one value, says what is
 * wrong with it in the words of `option.messages.ts` (or the option's hint), and resolves it.
 */

/**
 * The bound on every duration option (provider, shutdown, canary, route and call budgets). Node
 * timers overflow above 2^31 - 1 ms (about 24.8 days) and then fire after 1 ms; a day is more
 * than any call needs.
 */
export const MAX_DURATION_MS = 86_400_000;

/** An integer from `min` to `max`. */
export function integer(min: number, max: number): Rule<number> {
  return (value, at) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      return at.fail(min === 0 ? W.notNonNegativeInteger(value) : W.notPositiveInteger(value));
    }
    return value > max ? at.fail(W.tooLarge(value, max)) : value;
  };
}

/** Whole milliseconds, at least `min` (0: the option may be off), at most a day. */
export const duration = (min = 1): Rule<number> => integer(min, MAX_DURATION_MS);

/** A budget a call or a route sets: milliseconds, fractions allowed; with `off`, 0 turns it off. */
export function budget(off = false): Rule<number> {
  return (value, at) => {
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < (off ? 0 : Number.MIN_VALUE)
    ) {
      return at.fail(W.notABudget(value, off));
    }
    return value > MAX_DURATION_MS ? at.fail(W.tooLarge(value, MAX_DURATION_MS)) : value;
  };
}

/** A number from `min` to `max`. */
export function range(min: number, max: number): Rule<number> {
  return (value, at) =>
    typeof value === 'number' && value >= min && value <= max
      ? value
      : at.fail(W.notInRange(value, min, max));
}

/** A share of calls, from 0 to 1. */
export const share: Rule<number> = (value, at) =>
  typeof value === 'number' && value >= 0 && value <= 1 ? value : at.fail(W.notAShare(value));

export const bool: Rule<boolean> = (value, at) =>
  typeof value === 'boolean' ? value : at.fail(W.notABoolean(value));

/** One of a few values (strings, or `true`/`false` for a switch told as a choice). */
export function oneOf<const C extends readonly (string | boolean)[]>(choices: C): Rule<C[number]> {
  return (value, at) =>
    choices.includes(value as C[number])
      ? (value as C[number])
      : at.fail(W.notOneOf(value, choices));
}

/** A non-blank string, trimmed; `hint` says what to put there (it may read the field's path). */
export function text(hint: string | ((at: At) => string)): Rule<string> {
  return (value, at) => {
    const words = typeof hint === 'string' ? hint : hint(at);
    if (value === undefined || value === null) return at.fail(W.missing(words));
    if (typeof value !== 'string') return at.fail(W.notAString(words));
    return value.trim() === '' ? at.fail(W.blank(words)) : value.trim();
  };
}

/** A function, taken as the option's type says. */
export function func<F extends (...args: never[]) => unknown>(): Rule<F> {
  return (value, at) => (typeof value === 'function' ? (value as F) : at.fail(W.notAFunction));
}

/** An object with these methods (a clock, a store, an OpenTelemetry provider), taken as `T`. */
export function withMethods<T>(methods: readonly string[], words: string): Rule<T> {
  return (value, at) =>
    isDict(value) && methods.every((method) => typeof value[method] === 'function')
      ? (value as T)
      : at.fail(words);
}

/** Left out (`undefined`), the option stays unset; given, `rule` checks it. */
export function optional<T>(rule: Rule<T>): Rule<T | undefined> {
  return (value, at) => (value === undefined ? undefined : rule(value, at));
}

/** `false` turns the option off (`undefined`); anything else is checked by `rule`. */
export function orFalse<T>(rule: Rule<T>): Rule<T | undefined> {
  return (value, at) => (value === false ? undefined : rule(value, at));
}

/** A list of strings, each passing `test`, at least `min` of them. */
export function strings(test: (item: string) => boolean = () => true, min = 0): Rule<string[]> {
  return (value, at) =>
    Array.isArray(value) &&
    value.length >= min &&
    value.every((item) => typeof item === 'string' && test(item))
      ? (value as string[])
      : at.fail(W.notStrings);
}

/** Each value of an object by `rule`, into a map; every entry is checked. Left out: empty. */
export function record<T>(rule: Rule<T>): Rule<Map<string, T>> {
  return (value, at) => {
    if (value === undefined) return new Map();
    if (!isDict(value)) return at.fail(W.notAnObject);
    const map = new Map<string, T>();
    let valid = true;
    for (const [key, item] of Object.entries(value)) {
      const result = rule(item, at.child(key));
      if (result === INVALID) valid = false;
      else map.set(key, result);
    }
    return valid ? map : INVALID;
  };
}

/** An absolute http(s) URL; `apiRoot` also refuses credentials, a query and a fragment. */
export function httpUrl(hint: string, apiRoot = false): Rule<URL> {
  const given = text(hint);
  return (value, at) => {
    const href = given(value, at);
    if (href === INVALID) return INVALID;
    let url: URL;
    try {
      url = new URL(href);
    } catch {
      return at.fail(W.badUrl);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return at.fail(W.notHttp(url.protocol));
    if (apiRoot && (url.username || url.password)) return at.fail(W.urlHasCredentials);
    if (apiRoot && (url.search || url.hash)) return at.fail(W.urlHasQuery);
    return url;
  };
}

/** A header name: an HTTP token. */
export const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * A map of extra headers: string values without line breaks, names lowercased. Names in
 * `reserved` (those the client sets itself) are refused. Left out: none.
 */
export function headers(reserved: ReadonlySet<string> = new Set()): Rule<Record<string, string>> {
  return (value, at) => {
    if (value === undefined) return {};
    if (!isDict(value)) return at.fail(W.notAnObject);
    const resolved: Record<string, string> = {};
    let valid = true;
    for (const [name, headerValue] of Object.entries(value)) {
      const problem = reserved.has(name.toLowerCase())
        ? W.reservedHeader
        : headerProblem(name, headerValue) && W.badHeader;
      if (!problem) resolved[name.toLowerCase()] = headerValue as string;
      else {
        at.child(name).fail(problem);
        valid = false;
      }
    }
    return valid ? resolved : INVALID;
  };
}

/**
 * Why a header cannot be sent as it is (a name that is not an HTTP token, a value with line
 * breaks or control characters), or undefined when it can. Node's own checks, the same that
 * undici applies when the request is made.
 */
export function headerProblem(name: string, value: unknown): string | undefined {
  try {
    validateHeaderName(name);
  } catch {
    return `the header name ${JSON.stringify(name.slice(0, 64))} is not a valid HTTP token`;
  }
  if (typeof value !== 'string') return `header "${name}" must have a string value`;
  try {
    validateHeaderValue(name, value);
  } catch {
    return `header "${name}" has a value with line breaks or control characters`;
  }
  return undefined;
}
