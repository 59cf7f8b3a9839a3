export { InferenceRouter } from './inference.router.js';
export type { CallRecord, RouteDecision, RouteRequest } from './inference.router.js';
export { CanaryRouter } from './canary.router.js';
export { bucketOf, onCanary, BUCKETS } from './sticky-bucket.js';
export { murmur3x86_32 } from './murmur3.js';
