export { InferenceHealthIndicator } from './inference-health.indicator.js';
export type { ReadinessOptions } from './inference-health.indicator.js';
