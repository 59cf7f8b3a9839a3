import { OptionWords as W } from './option.messages.js';

/** Where a value sits in the options: keys, and indexes of lists. */
export type Path = readonly (string | number)[];

/** One wrong value: the whole message (it starts with the field's path), and the path. */
export interface Issue {
  message: string;
  path: Path;
}

/** What a rule returns for a value it refused (it has said why). */
export const INVALID: unique symbol = Symbol('invalid option');
export type Invalid = typeof INVALID;

/** Checks one given value: the value it resolves to, or `INVALID` once it has said why at `at`. */
export type Rule<T> = (value: unknown, at: At) => T | Invalid;

/** What a rule resolves to. */
export type RuleValue<R> = R extends Rule<infer T> ? T : never;

/** How a wrong value is told, after its path, given the value: replaces the rule's own words. */
export type Hint = (value: unknown) => string;

/** One option: its rule, its default (a value as a user would give it), and its hint. */
export interface Option<T = unknown, Given = unknown> {
  readonly rule: Rule<T>;
  /** Used when the option is left out; without one, the rule sees `undefined`. */
  readonly default?: Given;
  readonly hint?: Hint;
  /** `null` given means left out (the default), as it always did for this option. */
  readonly nullIsDefault?: boolean;
}

/**
 * The table of an options interface: one entry per field, optional fields included (`-?`), so a
 * field added to the interface without its entry does not compile, and an entry without its
 * field neither. A default is typed as the field is.
 */
export type TableOf<I> = { readonly [K in keyof I]-?: Option<unknown, I[K]> };

type Table = Readonly<Record<string, Option>>;

type ValueOf<Tab extends Table, K extends keyof Tab> = RuleValue<Tab[K]['rule']>;

/**
 * The resolved options of a table: what each entry's rule resolves to; an option whose rule may
 * leave it unset is an optional property.
 */
export type Resolved<Tab extends Table> = {
  [K in keyof Tab as undefined extends ValueOf<Tab, K> ? never : K]: ValueOf<Tab, K>;
} & {
  [K in keyof Tab as undefined extends ValueOf<Tab, K> ? K : never]?: ValueOf<Tab, K>;
};

/** The defaults of a table, as given values. */
export type DefaultsOf<Tab extends Table> = {
  [K in keyof Tab as Tab[K] extends { default: unknown } ? K : never]: Tab[K]['default'];
};

/** Where a rule is checking (the path, and how it is shown), and where its issues go. */
export class At {
  constructor(
    readonly issues: Issue[],
    readonly path: Path = [],
    /** Shown before the path: `Call option `, `@InferenceModel on X.y: `. */
    readonly prefix = '',
    private readonly hint?: () => string,
  ) {}

  child(key: string | number, hint?: () => string): At {
    return new At(this.issues, [...this.path, key], this.prefix, hint);
  }

  /** The last key of the path: the name of a provider, a model, a header. */
  get key(): string | number | undefined {
    return this.path.at(-1);
  }

  /** The path as messages show it: `providers.next.timeouts.idleMs`, `canary.phases[0].weight`. */
  get name(): string {
    const path = this.path.map((key, index) =>
      typeof key === 'number' ? `[${key}]` : index === 0 ? key : `.${key}`,
    );
    return this.prefix + path.join('');
  }

  /** The value here is wrong: records `<path> <words>` (or the option's hint) and returns `INVALID`. */
  fail(words: string): Invalid {
    this.issues.push({ message: `${this.name} ${this.hint?.() ?? words}`, path: this.path });
    return INVALID;
  }
}

export type Dict = Record<string, unknown>;

export function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Records every given key the table does not know. */
export function checkKnown(given: Dict, known: readonly string[], at: At): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) at.child(key).fail(W.unknownKey(known));
  }
}

/**
 * A group of options (an object) checked by its table: unknown keys refused, each entry resolved
 * by its rule (its default when left out), every issue recorded. Left out, the group is all
 * defaults. `finish`, run when every entry is valid, checks what spans entries and shapes the result.
 */
export function group<Tab extends Table>(table: Tab): Rule<Resolved<Tab>>;
export function group<Tab extends Table, R>(
  table: Tab,
  finish: (resolved: Resolved<Tab>, at: At, given: Dict) => R | Invalid,
): Rule<R>;
export function group<Tab extends Table, R>(
  table: Tab,
  finish?: (resolved: Resolved<Tab>, at: At, given: Dict) => R | Invalid,
): Rule<R | Resolved<Tab>> {
  const known = Object.keys(table);
  return (value, at) => {
    // Left out, a group is all defaults; `null` is not an object (unless its entry says so).
    const given = value === undefined ? {} : value;
    if (!isDict(given)) return at.fail(W.notAnObject);
    checkKnown(given, known, at);
    const resolved: Dict = {};
    let valid = true;
    for (const key of known) {
      const { rule, hint, default: fallback } = table[key]!;
      const left = given[key] === undefined || (given[key] === null && table[key]!.nullIsDefault);
      const input = left ? fallback : given[key];
      const result = rule(input, at.child(key, hint && (() => hint(input))));
      if (result === INVALID) valid = false;
      else resolved[key] = result;
    }
    if (!valid) return INVALID;
    // Every key of the table was resolved.
    const whole = resolved as Resolved<Tab>;
    return finish ? finish(whole, at, given) : (whole as R);
  };
}

/** The defaults of a table, as a user would give them. */
export function defaultsOf<Tab extends Table>(table: Tab): DefaultsOf<Tab> {
  const defaults: Dict = {};
  for (const [key, option] of Object.entries(table)) {
    if (option.default !== undefined) defaults[key] = option.default;
  }
  return defaults as DefaultsOf<Tab>;
}

/** A rule's verdict on a whole value: the resolved value, or every issue. */
export function check<T>(
  rule: Rule<T>,
  value: unknown,
  prefix = '',
): { value: T; issues?: undefined } | { issues: Issue[] } {
  const issues: Issue[] = [];
  const result = rule(value, new At(issues, [], prefix));
  return result === INVALID || issues.length > 0 ? { issues } : { value: result };
}
