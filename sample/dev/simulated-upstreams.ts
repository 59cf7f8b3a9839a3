import type { SimulatedProvider } from 'nestjs-inference/testing';

/**
 * Starts a simulated provider for each side the environment does not configure, and points the
 * environment at it, so the gateway runs with no API key. Latencies echo the migration story:
 * the legacy provider is slower than the new one. `SIMULATED_FIRST_BYTE_MS` (`1000-3000`, or one
 * number) sets the time to first byte of both. `SIMULATED_CANARY_ERROR_RATE` (0..1) makes that
 * share of the new provider's answers a 500, to watch the rollout roll back. Each keeps only its
 * last 100 requests: the gateway may run for days.
 *
 * For the development entry point only (`main.ts`): the app itself knows nothing of it, and the
 * testing kit is loaded only when a side needs a simulated provider.
 */
export async function startSimulatedUpstreams(
  env: NodeJS.ProcessEnv,
): Promise<SimulatedProvider[]> {
  const started: SimulatedProvider[] = [];
  const sides = [
    { prefix: 'INFERENCE', firstByteMs: [250, 450] as const, perChunkMs: 25 },
    { prefix: 'CANARY', firstByteMs: [80, 200] as const, perChunkMs: 10 },
  ];
  const missing = sides.filter(
    (side) => !(env[`${side.prefix}_BASE_URL`] && env[`${side.prefix}_API_KEY`]),
  );
  if (missing.length === 0) return started;
  const firstByteMs = parseRange(env.SIMULATED_FIRST_BYTE_MS);
  const errorRate = parseRate(env.SIMULATED_CANARY_ERROR_RATE);
  const { SimulatedProvider } = await import('nestjs-inference/testing');
  for (const side of missing) {
    const apiKey = `sk-simulated-${side.prefix.toLowerCase()}`;
    const provider = await SimulatedProvider.start({
      apiKey,
      chunks: 12,
      keepRequests: 100,
      latency: { firstByteMs: firstByteMs ?? side.firstByteMs, perChunkMs: side.perChunkMs },
    });
    if (side.prefix === 'CANARY' && errorRate > 0) {
      provider.setFaultRate(
        { type: 'status', status: 500, message: 'simulated canary fault' },
        errorRate,
      );
    }
    env[`${side.prefix}_BASE_URL`] = provider.baseUrl;
    env[`${side.prefix}_API_KEY`] = apiKey;
    started.push(provider);
  }
  return started;
}

function parseRange(text: string | undefined): readonly [number, number] | undefined {
  if (!text) return undefined;
  const [low, high = low] = text.split('-').map(Number);
  if (!Number.isFinite(low) || !Number.isFinite(high) || low! < 0 || high! < low!) {
    throw new Error(
      `SIMULATED_FIRST_BYTE_MS must be a number or a range like 1000-3000, got '${text}'.`,
    );
  }
  return [low!, high!];
}

function parseRate(text: string | undefined): number {
  if (!text) return 0;
  const rate = Number(text);
  if (!(rate >= 0 && rate <= 1)) {
    throw new Error(`SIMULATED_CANARY_ERROR_RATE must be a share from 0 to 1, got '${text}'.`);
  }
  return rate;
}
