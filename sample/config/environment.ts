/**
 * The one reader of `process.env` in the app. Each config namespace reads its variables through
 * an `Environment` and gets them typed and checked: a bad value fails the start with every
 * problem found, each naming its variable. An unset or empty variable takes its default.
 */
export class Environment {
  readonly #problems: string[] = [];

  constructor(private readonly variables: NodeJS.ProcessEnv = process.env) {}

  /** The variable as set, or `fallback` when it is unset or empty. */
  text(name: string): string | undefined;
  text(name: string, fallback: string): string;
  text(name: string, fallback?: string): string | undefined {
    const raw = this.variables[name];
    return raw === undefined || raw === '' ? fallback : raw;
  }

  /** `true` or `false`; anything else is a mistake (a typo must not silently mean off). */
  flag(name: string, fallback: boolean): boolean {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    return this.#problem(`${name} must be true or false, got '${raw}'.`, fallback);
  }

  /** One of `choices`. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    return this.#problem(`${name} must be one of ${choices.join(', ')}, got '${raw}'.`, fallback);
  }

  /** An integer from `min` to `max` (a count, a port, milliseconds). */
  integer(name: string, range: IntegerRange & { fallback: number }): number;
  integer(name: string, range?: IntegerRange): number | undefined;
  integer(name: string, range: IntegerRange & { fallback?: number } = {}): number | undefined {
    const { min = 0, max = Number.MAX_SAFE_INTEGER, fallback, hint } = range;
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    const expected =
      hint ??
      (max !== Number.MAX_SAFE_INTEGER
        ? `an integer from ${min} to ${max}`
        : min === 0
          ? 'a non-negative integer'
          : `an integer of at least ${min}`);
    return this.#problem(`${name} must be ${expected}, got '${raw}'.`, fallback);
  }

  /** A value `parse` reads from the variable's text; what it throws is the variable's problem. */
  parsed<T>(name: string, parse: (raw: string | undefined) => T): T | undefined {
    try {
      return parse(this.text(name));
    } catch (error) {
      return this.#problem((error as Error).message, undefined);
    }
  }

  /** Throws one error listing every problem found, if there is any. */
  check(namespace: string): void {
    if (this.#problems.length === 0) return;
    throw new Error(
      `The ${namespace} configuration is invalid:\n${this.#problems.map((p) => `- ${p}`).join('\n')}`,
    );
  }

  #problem<T>(message: string, fallback: T): T {
    this.#problems.push(message);
    return fallback;
  }
}

export interface IntegerRange {
  min?: number;
  max?: number;
  /** What a valid value is, when "an integer of at least <min>" does not say it. */
  hint?: string;
}

/**
 * A config namespace's factory: reads the environment through `read`, then fails on any problem.
 * Runs when the app is created, so the values are those of the environment at that moment.
 */
export function fromEnvironment<T>(namespace: string, read: (env: Environment) => T): () => T {
  return () => {
    const env = new Environment();
    const config = read(env);
    env.check(namespace);
    return config;
  };
}
