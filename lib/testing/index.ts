export { SimulatedProvider } from './simulated-provider.js';
export type {
  RecordedOutcome,
  RecordedRequest,
  SimulatedLatency,
  SimulatedProviderOptions,
} from './simulated-provider.js';
export type { SimulatedFault, SimulatedFaultType } from './simulated-fault.js';
