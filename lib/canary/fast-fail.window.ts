const SLOTS = 10;

export interface FastFailOptions {
  /** How far back the window looks. */
  windowMs: number;
  /** Fewest canary calls in the window before the rule can fire. */
  minCalls: number;
  /** The share of failed canary calls (0..1) in the window that rolls the canary back at once. */
  failureRate: number;
}

/**
 * The canary's most recent calls, in ten time slots covering `windowMs`: a canary that fails most
 * of its calls is rolled back at once, without waiting for the judge's next interval. O(1) and
 * allocation-free per call.
 */
export class FastFailWindow {
  readonly #calls = new Float64Array(SLOTS);
  readonly #failures = new Float64Array(SLOTS);
  readonly #slotStarts = new Float64Array(SLOTS).fill(-Infinity);
  readonly #slotMs: number;

  constructor(private readonly options: FastFailOptions) {
    this.#slotMs = options.windowMs / SLOTS;
  }

  /** Records one call; returns true when the window now breaches the rule. */
  record(failed: boolean, now: number): boolean {
    const start = Math.floor(now / this.#slotMs) * this.#slotMs;
    const slot = Math.floor(now / this.#slotMs) % SLOTS;
    if (this.#slotStarts[slot] !== start) {
      this.#slotStarts[slot] = start;
      this.#calls[slot] = 0;
      this.#failures[slot] = 0;
    }
    this.#calls[slot]! += 1;
    if (!failed) return false;
    this.#failures[slot]! += 1;
    return this.breached(now);
  }

  breached(now: number): boolean {
    this.#sum(now);
    return (
      this.#sumCalls >= this.options.minCalls &&
      this.#sumFailures >= this.options.failureRate * this.#sumCalls
    );
  }

  /** The failed share over the window, for the reason of a rollback. */
  describe(now: number): string {
    this.#sum(now);
    return `${this.#sumFailures} of the canary's last ${this.#sumCalls} calls failed within ${this.options.windowMs} ms`;
  }

  // Sums land in fields rather than a returned object, so a check allocates nothing.
  #sumCalls = 0;
  #sumFailures = 0;

  #sum(now: number): void {
    const oldest = now - this.options.windowMs;
    this.#sumCalls = 0;
    this.#sumFailures = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      if (this.#slotStarts[slot]! <= oldest) continue;
      this.#sumCalls += this.#calls[slot]!;
      this.#sumFailures += this.#failures[slot]!;
    }
  }

  reset(): void {
    this.#slotStarts.fill(-Infinity);
  }
}
