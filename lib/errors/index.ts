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
export type { FailurePhase, InferenceErrorDetails } from './inference.error.js';
export { redactSecrets } from './redact.js';
export { httpStatusOf, openAiErrorBody, toHttpException } from './to-http-exception.js';
export { InferenceExceptionFilter } from './inference-exception.filter.js';
