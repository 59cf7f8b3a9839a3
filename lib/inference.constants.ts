/** Injection token of the validated options (`ResolvedInferenceOptions`). */
export const INFERENCE_OPTIONS = Symbol('nestjs-inference:resolved-options');
/** The logger context the module writes under. */
export const INFERENCE_LOGGER_CONTEXT = 'Inference';
