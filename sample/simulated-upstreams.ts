import { SimulatedProvider } from 'nestjs-inference/testing';

/**
 * Starts a simulated provider for each side the environment does not configure, and points the
 * environment at it, so the gateway runs with no API key. Latencies echo the migration story:
 * the legacy provider is slower than the new one.
 */
export async function startSimulatedUpstreams(
  env: NodeJS.ProcessEnv,
): Promise<SimulatedProvider[]> {
  const started: SimulatedProvider[] = [];
  const sides = [
    { prefix: 'INFERENCE', firstByteMs: [250, 450] as const, perChunkMs: 25 },
    { prefix: 'CANARY', firstByteMs: [80, 200] as const, perChunkMs: 10 },
  ];
  for (const side of sides) {
    if (env[`${side.prefix}_BASE_URL`] && env[`${side.prefix}_API_KEY`]) continue;
    const apiKey = `sk-simulated-${side.prefix.toLowerCase()}`;
    const provider = await SimulatedProvider.start({
      apiKey,
      chunks: 12,
      latency: { firstByteMs: side.firstByteMs, perChunkMs: side.perChunkMs },
    });
    env[`${side.prefix}_BASE_URL`] = provider.baseUrl;
    env[`${side.prefix}_API_KEY`] = apiKey;
    started.push(provider);
  }
  return started;
}
