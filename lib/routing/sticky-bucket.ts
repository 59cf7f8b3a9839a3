import { murmur3x86_32 } from './murmur3.js';

/** Buckets of the sticky assignment: a weight is a number of them, in basis points (0.01%). */
export const BUCKETS = 10_000;

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/**
 * The bucket (0..9999) of a sticky key in a rollout: murmur3 x86 32-bit over the UTF-8 bytes of
 * `salt:key`, modulo 10,000. A new salt per rollout gives each rollout a fresh cohort.
 */
export function bucketOf(salt: string, key: string): number {
  const text = `${salt}:${key}`;
  // UTF-8 needs at most 3 bytes per UTF-16 unit; the buffer grows once for long keys.
  if (text.length * 3 > scratch.length) scratch = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, scratch);
  return murmur3x86_32(scratch, written) % BUCKETS;
}

/**
 * Whether a bucket is on the canary at a weight in basis points. A key on the canary stays on it
 * as the weight grows, since the set of canary buckets only grows.
 */
export function onCanary(bucket: number, weightBps: number): boolean {
  return bucket < weightBps;
}
