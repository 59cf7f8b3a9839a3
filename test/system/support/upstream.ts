import { SimulatedProvider } from '../../../lib/testing/index.js';

/** The upstream API key of the system tests: no log or error of the sample may contain it. */
export const API_KEY = 'sk-system-test-key-0123456789';

/** The sample's environment that points both of its sides (stable and canary) at `provider`. */
export function upstreamEnv(provider: SimulatedProvider): Record<string, string> {
  return {
    INFERENCE_BASE_URL: provider.baseUrl,
    INFERENCE_API_KEY: API_KEY,
    CANARY_BASE_URL: provider.baseUrl,
    CANARY_API_KEY: API_KEY,
  };
}

/** A provider whose answers take 12 s (40 chunks, 300 ms apart): still running at any deadline. */
export function startSlowProvider(): Promise<SimulatedProvider> {
  return SimulatedProvider.start({ apiKey: API_KEY, chunks: 40, latency: { perChunkMs: 300 } });
}
