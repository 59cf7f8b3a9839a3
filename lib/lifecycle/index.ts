export { InflightRegistry } from './inflight.registry.js';
export type { InflightFigures } from './inflight.registry.js';
export type { InflightSnapshot, InflightState } from './inflight-request.js';
export { ShutdownCoordinator } from './shutdown.coordinator.js';
export type { ShutdownEvent, ShutdownPhase, ShutdownSummary } from './shutdown-events.js';
export { enableInferenceShutdownHooks } from './shutdown-hooks.js';
export type { InferenceShutdownHooksOptions } from './shutdown-hooks.js';
