import fc from 'fast-check';
import murmurhash from 'murmurhash';
import { describe, expect, it } from 'vitest';
import { BUCKETS, onCanary } from '../../../lib/routing/sticky-bucket.js';
import { bucketOf } from '../../../lib/canary/index.js';
import { murmur3x86_32 } from '../../../lib/routing/murmur3.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const hash = (text: string) => murmur3x86_32(utf8(text), utf8(text).length);

describe('murmur3 x86 32-bit', () => {
  it('matches the reference vectors (seed 0)', () => {
    expect(hash('')).toBe(0);
    expect(hash('hello')).toBe(613153351);
    expect(hash('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
    expect(murmur3x86_32(utf8('hello'), 5, 1)).toBe(0xbb4abcad);
  });

  it('hashes the UTF-8 bytes of non-ASCII keys', () => {
    // Golden values from the reference implementation over the UTF-8 encoding.
    expect(hash('ünïcødé')).toBe(2210329462);
    expect(hash('ユーザー:42')).toBe(murmurhash.v3('ユーザー:42'));
    expect(hash('😀')).toBe(murmurhash.v3('😀'));
    expect(bucketOf('rollout-1', 'Zoë')).toBe(murmurhash.v3('rollout-1:Zoë') % BUCKETS);
  });

  it('equals the murmurhash package for any string, any length', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expect(hash(text)).toBe(murmurhash.v3(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('sticky buckets', () => {
  it('are the hash of salt:key modulo 10,000', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ unit: 'grapheme' }), (salt, key) => {
        const bucket = bucketOf(salt, key);
        expect(bucket).toBe(murmurhash.v3(`${salt}:${key}`) % BUCKETS);
        expect(bucket).toBeGreaterThanOrEqual(0);
        expect(bucket).toBeLessThan(BUCKETS);
      }),
    );
  });

  it('keep a key on the canary as the weight grows', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.integer({ min: 0, max: BUCKETS }),
        fc.integer({ min: 0, max: BUCKETS }),
        (salt, key, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const bucket = bucketOf(salt, key);
          expect(!onCanary(bucket, low) || onCanary(bucket, high)).toBe(true);
        },
      ),
    );
  });

  it('are uniform within ±0.5% over 100,000 keys', () => {
    const counts = new Array<number>(10).fill(0);
    let atFivePercent = 0;
    for (let user = 0; user < 100_000; user++) {
      const bucket = bucketOf('rollout-2026-11', `user-${user}`);
      counts[Math.floor(bucket / 1000)]!++;
      if (onCanary(bucket, 500)) atFivePercent++;
    }
    for (const count of counts) expect(Math.abs(count / 100_000 - 0.1)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(atFivePercent / 100_000 - 0.05)).toBeLessThanOrEqual(0.005);
  });

  it('are independent across salts: a new rollout draws a fresh cohort', () => {
    let both = 0;
    let first = 0;
    for (let user = 0; user < 100_000; user++) {
      const inFirst = onCanary(bucketOf('rollout-a', `user-${user}`), 1_000);
      const inSecond = onCanary(bucketOf('rollout-b', `user-${user}`), 1_000);
      if (inFirst) first++;
      if (inFirst && inSecond) both++;
    }
    // Independent 10% cohorts overlap on about 1% of keys, i.e. 10% of the first cohort.
    expect(Math.abs(both / first - 0.1)).toBeLessThan(0.02);
  });
});
