import { describe, expect, it } from 'vitest';
import { parsePhases } from '../../rollout/rollout-phases.js';

describe('the sample’s ROLLOUT_PHASES', () => {
  it('reads weight:duration pairs in ms, s, m or h, with a bare final weight', () => {
    expect(parsePhases('ROLLOUT_PHASES', '1:15m,5:30m,25:1h,50:2h,100')).toEqual([
      { weight: 1, durationMs: 900_000 },
      { weight: 5, durationMs: 1_800_000 },
      { weight: 25, durationMs: 3_600_000 },
      { weight: 50, durationMs: 7_200_000 },
      { weight: 100 },
    ]);
    expect(parsePhases('ROLLOUT_PHASES', '0.5:90s, 10:500ms')).toEqual([
      { weight: 0.5, durationMs: 90_000 },
      { weight: 10, durationMs: 500 },
    ]);
    expect(parsePhases('ROLLOUT_PHASES', undefined)).toBeUndefined();
  });

  it('names the variable and shows the format on bad input', () => {
    expect(() => parsePhases('ROLLOUT_PHASES', '1:15min')).toThrow(
      /ROLLOUT_PHASES has a phase '1:15min' that is not weight\[:duration\].*1:15m,5:30m/,
    );
  });
});
