export { costOf, estimatedUsage } from '../pricing/call-cost.js';
export type { CallCost } from '../pricing/call-cost.js';
export { CallTelemetry } from './call-telemetry.js';
export type { CallEnd } from './call-telemetry.js';
export { InferenceTelemetry } from './inference.telemetry.js';
export type { CallStart } from './inference.telemetry.js';
export { ATTR, METRIC } from './telemetry-names.js';
