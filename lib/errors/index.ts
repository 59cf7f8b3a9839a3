export {
  InferenceAbortedError,
  InferenceConnectionError,
  InferenceError,
  InferenceHttpError,
  InferenceIncompleteStreamError,
  InferenceProtocolError,
  InferenceRateLimitError,
  InferenceRequestError,
  InferenceShutdownError,
  InferenceStreamError,
  InferenceTimeoutError,
} from './inference.error.js';
export type { FailurePhase, InferenceErrorDetails, UpstreamErrorBody } from './inference.error.js';
export { faultOf, type Fault } from './fault-of.js';
export { redactSecrets } from './redact.js';
export {
  httpStatusOf,
  INFERENCE_ERROR_OPTIONS,
  openAiErrorBody,
  toHttpException,
} from './to-http-exception.js';
export type { InferenceErrorOptions, OpenAiErrorBody } from './to-http-exception.js';
export { InferenceExceptionFilter } from './inference-exception.filter.js';
