import type { CanaryPhase } from 'nestjs-inference';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Phases from text like `1:15m,5:30m,25:1h,50:2h,100`: a weight in percent, then how long the
 * phase runs (`ms`, `s`, `m` or `h`). The final 100% needs no duration.
 */
export function parsePhases(name: string, text: string | undefined): CanaryPhase[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  return text.split(',').map((part) => {
    const match = /^\s*(\d+(?:\.\d+)?)(?::(\d+)(ms|s|m|h))?\s*$/.exec(part);
    if (!match) {
      throw new Error(
        `${name} has a phase '${part}' that is not weight[:duration], such as 5:30m. Example: 1:15m,5:30m,25:1h,50:2h,100.`,
      );
    }
    const [, weight, amount, unit] = match;
    return amount === undefined
      ? { weight: Number(weight) }
      : { weight: Number(weight), durationMs: Number(amount) * UNITS[unit!]! };
  });
}
