import type { InferenceMetadata } from './chat.types.js';

/** OpenAI's embeddings request; fields the module does not know are passed through. */
export interface EmbeddingRequest {
  /** Required unless a logical model or the route names one. */
  model?: string;
  /** A text, texts, or token arrays. */
  input: string | string[] | number[] | number[][];
  /** Fewer dimensions, for models that support it. */
  dimensions?: number;
  encoding_format?: 'float' | 'base64';
  user?: string;
  [field: string]: unknown;
}

export interface Embedding {
  object: 'embedding';
  index: number;
  /** Numbers, or base64 float32 bytes when `encoding_format` is `base64`. */
  embedding: number[] | string;
}

export interface EmbeddingResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage?: { prompt_tokens: number; total_tokens: number };
  [field: string]: unknown;
}

/** Embeddings with the call's metadata under `inference` (not enumerable). */
export type EmbeddingResult = EmbeddingResponse & { readonly inference: InferenceMetadata };
