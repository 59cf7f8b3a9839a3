import { inspect } from 'node:util';

/**
 * Holds a credential so that logging, inspecting or serialising the options that carry it never
 * prints it. Only `reveal()` gives the value, and only the HTTP client calls it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
