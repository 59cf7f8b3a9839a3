/**
 * A parsed chunk keeps the text it was parsed from (its SSE event's `data`), so a relay can
 * forward the provider's bytes instead of serialising the chunk again. The text rides on a
 * non-enumerable property under a module-private symbol: `{ ...chunk }`, `JSON.stringify` and
 * `structuredClone` never carry it, and no caller can set it by accident.
 *
 * The text is only true of the chunk as parsed: code that changes a chunk in place must call
 * `dropWireText` first, so the chunk is serialised again.
 */
const WIRE_TEXT = Symbol('wireText');

interface Carrier {
  [WIRE_TEXT]?: string;
}

/** Attaches `text` to `chunk` as its wire text; returns the chunk. */
export function withWireText<T extends object>(chunk: T, text: string): T {
  Object.defineProperty(chunk, WIRE_TEXT, {
    value: text,
    enumerable: false,
    writable: true,
    configurable: true,
  });
  return chunk;
}

/** The text `chunk` was parsed from, if it still stands for it. */
export function wireTextOf(chunk: object): string | undefined {
  return (chunk as Carrier)[WIRE_TEXT];
}

/** Forgets `chunk`'s wire text: call it before changing the chunk in place. */
export function dropWireText(chunk: object): void {
  delete (chunk as Carrier)[WIRE_TEXT];
}
