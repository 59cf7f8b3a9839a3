import type { Clock } from '../client/clock.js';

/**
 * What the health indicator reads of the module's resolved options. Apart from the indicator, so
 * that the options' types do not reach `@nestjs/terminus`, an optional peer dependency.
 */
export interface HealthModuleOptions {
  clock: Clock;
}
