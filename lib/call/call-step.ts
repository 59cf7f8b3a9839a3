import type { CallEndRecord } from './call-end.record.js';
import type { InferenceCall } from './inference-call.js';

/**
 * A step of the call pipeline: it sees each call before it goes out, and its end record once.
 *
 * - `before` runs in the steps' order when the call starts (after the call was made: its context
 *   read, options checked, route and request resolved). It may throw to refuse the call (a
 *   tenant over its limit); the call then ends with that error and no later `before` runs.
 *   Throw an `InferenceError` to say whose fault it is; any other error counts as the request's
 *   (`client`): no provider was involved.
 *   It may return a promise (a Redis round trip); a step that needs none should return nothing,
 *   so the call pays no promise for it.
 * - `after` runs exactly once per call that started, for every ending: success, provider error,
 *   timeout, client gone, drain, a cut stream, a stream the app stopped reading, and a refusal by
 *   any step (its own included). Every step sees it, also those whose `before` never ran, so a
 *   step that holds something (a slot, a reservation) checks what it took. A throw from `after`
 *   is logged and does not stop the other steps.
 */
export interface CallStep {
  before?(call: InferenceCall): void | Promise<void>;
  after?(call: InferenceCall, record: CallEndRecord): void;
}

/** The DI token of the ordered steps every call passes (see `InferenceModule`). */
export const INFERENCE_CALL_STEPS = Symbol('INFERENCE_CALL_STEPS');
