export { InferencePrometheus } from './inference-prometheus.js';
