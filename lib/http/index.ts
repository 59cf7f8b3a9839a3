export { sendSse, sseErrorBody, toSseEvents } from './sse-response.js';
export type { SseResponseOptions, SseTarget } from './sse-response.js';
