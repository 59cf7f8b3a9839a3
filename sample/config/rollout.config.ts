import { registerAs, type ConfigType } from '@nestjs/config';
import { fromEnvironment } from './environment.js';

/**
 * Who may read and move the rollout: `ROLLOUT_ADMIN_TOKEN` allows everything (without it the
 * actions are disabled); `ROLLOUT_READ_TOKEN`, when set, is needed to read. The rollout's own
 * settings (phases, judge, store) are the inference module's options (`inference.config.ts`).
 */
export const rolloutConfig = registerAs(
  'rollout',
  fromEnvironment('rollout', (env) => ({
    adminToken: env.text('ROLLOUT_ADMIN_TOKEN'),
    readToken: env.text('ROLLOUT_READ_TOKEN'),
  })),
);

export type RolloutConfig = ConfigType<typeof rolloutConfig>;
