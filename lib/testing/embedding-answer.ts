import { createHash } from 'node:crypto';

/** Dimensions of a simulated vector when the request does not ask for a number. */
export const SIMULATED_DIMENSIONS = 16;

/**
 * The deterministic answer to one embeddings request: each input's vector is derived from a
 * hash of its text (the same text always gives the same unit vector), usage is ⌈characters / 4⌉
 * prompt tokens. `encoding_format: 'base64'` gives little-endian float32 bytes, as OpenAI does.
 */
export class EmbeddingAnswer {
  /** Embeddings are never streamed: no chunks, so no per-chunk latency. */
  readonly steps = 0;
  readonly #inputs: string[];
  readonly #model: string;
  readonly #dimensions: number;
  readonly #base64: boolean;

  constructor(body: Record<string, unknown>, model: string) {
    this.#inputs = inputsOf(body.input) ?? [];
    this.#model = typeof body.model === 'string' ? body.model : model;
    this.#dimensions =
      typeof body.dimensions === 'number' && body.dimensions > 0
        ? Math.min(Math.floor(body.dimensions), 4096)
        : SIMULATED_DIMENSIONS;
    this.#base64 = body.encoding_format === 'base64';
  }

  /** Whether a request body has an `input` the simulator can embed. */
  static accepts(body: Record<string, unknown> | undefined): boolean {
    return body !== undefined && inputsOf(body.input) !== undefined;
  }

  completion(): Record<string, unknown> {
    const tokens = this.#inputs.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
    return {
      object: 'list',
      model: this.#model,
      data: this.#inputs.map((text, index) => {
        const vector = vectorOf(text, this.#dimensions);
        return {
          object: 'embedding',
          index,
          embedding: this.#base64 ? Buffer.from(vector.buffer).toString('base64') : [...vector],
        };
      }),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }
}

/** The inputs as texts: a string, strings, or token arrays (embedded by their JSON). */
function inputsOf(input: unknown): string[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((item) => typeof item === 'string')) return input as string[];
  if (input.every((item) => typeof item === 'number')) return [JSON.stringify(input)];
  if (input.every((item) => Array.isArray(item))) return input.map((item) => JSON.stringify(item));
  return undefined;
}

function vectorOf(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  let block = Buffer.alloc(0);
  for (let i = 0; i < dimensions; i++) {
    if (i % 16 === 0) block = createHash('sha256').update(`${i}:${text}`).digest();
    vector[i] = block.readUInt16LE((i % 16) * 2) / 65535 - 0.5;
  }
  const norm = Math.hypot(...vector) || 1;
  for (let i = 0; i < dimensions; i++) vector[i]! /= norm;
  return vector;
}
