/** Relative width of a bucket: a recorded value is known within ±2%. */
const GROWTH = 1.04;
const LOG_GROWTH = Math.log(GROWTH);
/** Values below this (in the recorded unit, usually ms) share bucket 0. */
const MIN_VALUE = 0.1;
/** Enough buckets to reach about 14 hours in milliseconds; larger values share the last one. */
const BUCKETS = 512;

/**
 * A latency histogram with logarithmic buckets: O(1) and allocation-free per value, fixed memory
 * (4 KiB) whatever the traffic, and mergeable (two histograms add bucket by bucket). Quantiles
 * are known within about ±2%.
 */
export class LogHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #total = 0;

  get count(): number {
    return this.#total;
  }

  record(value: number): void {
    this.#counts[bucketOf(value)]! += 1;
    this.#total += 1;
  }

  /** The value below which a share `q` (0..1) of the recorded values fall; 0 when empty. */
  quantile(q: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.#counts[index]!;
      if (seen >= rank) return upperBoundOf(index);
    }
    return upperBoundOf(BUCKETS - 1);
  }

  /** How many recorded values were above `threshold` (counting whole buckets above it). */
  countAbove(threshold: number): number {
    let above = 0;
    for (let index = bucketOf(threshold) + 1; index < BUCKETS; index++) {
      above += this.#counts[index]!;
    }
    return above;
  }

  /** Adds another histogram's values to this one. */
  merge(other: LogHistogram): void {
    for (let index = 0; index < BUCKETS; index++) this.#counts[index]! += other.#counts[index]!;
    this.#total += other.#total;
  }

  /** The non-empty buckets as `[index, count]` pairs: a compact form to store and merge elsewhere. */
  toSparse(): [number, number][] {
    const pairs: [number, number][] = [];
    for (let index = 0; index < BUCKETS; index++) {
      const count = this.#counts[index]!;
      if (count > 0) pairs.push([index, count]);
    }
    return pairs;
  }

  /** Adds buckets given in the form `toSparse()` returns; pairs out of range are ignored. */
  mergeSparse(pairs: readonly (readonly [number, number])[]): void {
    for (const [index, count] of pairs) {
      if (!Number.isInteger(index) || index < 0 || index >= BUCKETS || !(count > 0)) continue;
      this.#counts[index]! += count;
      this.#total += count;
    }
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
  }
}

function bucketOf(value: number): number {
  if (!(value > MIN_VALUE)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(value / MIN_VALUE) / LOG_GROWTH));
}

function upperBoundOf(index: number): number {
  return MIN_VALUE * GROWTH ** index;
}
