export { InferenceInterceptor } from './inference.interceptor.js';
export { currentRequestContext, runWithRequestContext } from './request-context.js';
export type { InferenceRequestContext } from './request-context.js';
export { requestIdFrom } from '../lifecycle/request-id.js';
