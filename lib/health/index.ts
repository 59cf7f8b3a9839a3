export { InferenceHealthIndicator } from './inference-health.indicator.js';
