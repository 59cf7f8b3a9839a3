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

/** The module's default phases, spelled out so a shadow phase can be put before them. */
const DEFAULT_PHASES = '1:15m,5:30m,25:1h,50:2h,100';

/**
 * With `ROLLOUT_SHADOW_PERCENT` set, the rollout starts with a shadow phase: that share of the
 * stable side's users is mirrored to the canary (no user is served by it) for
 * `ROLLOUT_SHADOW_DURATION` (default 15m), and the shadow gate must pass before the first
 * weighted phase.
 */
export function withShadowPhase(
  phases: CanaryPhase[] | undefined,
  percent: string | undefined,
  duration: string | undefined,
): CanaryPhase[] | undefined {
  if (percent === undefined || percent.trim() === '') return phases;
  const shadow = Number(percent);
  if (!(shadow > 0 && shadow <= 100)) {
    throw new Error(
      `ROLLOUT_SHADOW_PERCENT must be a percentage above 0 and at most 100, such as 10; got '${percent}'.`,
    );
  }
  const [shadowPhase] = parsePhases('ROLLOUT_SHADOW_DURATION', `0:${duration?.trim() || '15m'}`)!;
  return [
    { ...shadowPhase!, shadow },
    ...(phases ?? parsePhases('ROLLOUT_PHASES', DEFAULT_PHASES)!),
  ];
}
