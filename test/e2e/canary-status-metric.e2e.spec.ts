import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CanaryRollout } from '../../lib/canary/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { TEST_API_KEY } from '../support/inference-harness.js';
import { InMemoryOtel } from '../support/otel-sdk.js';
import { startRolloutApp } from '../support/rollout-app.js';

const STATUSES = ['idle', 'warming', 'progressing', 'hold', 'paused', 'promoted', 'rolled_back'];

// Alerts read the rollout's status from this gauge: it must say the current status only, however
// many the rollout went through (the SDK keeps reporting an attribute set it saw once).
describe('the inference.canary.status gauge', () => {
  let otel: InMemoryOtel;
  let legacy: SimulatedProvider;
  let next: SimulatedProvider;
  let app: INestApplicationContext;
  let rollout: CanaryRollout;

  beforeAll(async () => {
    otel = new InMemoryOtel().register();
    legacy = await SimulatedProvider.start({ apiKey: TEST_API_KEY });
    next = await SimulatedProvider.start({ apiKey: TEST_API_KEY });
    const provider = (sim: SimulatedProvider, model: string) => ({
      baseUrl: sim.baseUrl,
      apiKey: TEST_API_KEY,
      defaultModel: model,
    });
    app = await startRolloutApp({
      legacy: provider(legacy, 'gpt-4.1'),
      next: provider(next, 'deepseek-v3.2'),
    });
    rollout = app.get(CanaryRollout);
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([legacy.close(), next.close()]);
    await otel.unregister();
  });

  async function statuses(): Promise<Record<string, unknown>> {
    const points = await otel.points('inference.canary.status');
    return Object.fromEntries(
      points.map((point) => [point.attributes['inference.canary.status'], point.value]),
    );
  }
  const only = (current: string) =>
    Object.fromEntries(STATUSES.map((status) => [status, status === current ? 1 : 0]));

  it('reports every status, 1 for the current one, through a rollback and a new rollout', async () => {
    expect(await statuses()).toEqual(only('progressing'));

    await rollout.rollback('a test');
    expect(rollout.state.status).toBe('rolled_back');
    expect(await statuses()).toEqual(only('rolled_back'));

    await rollout.start();
    expect(rollout.state.status).toBe('progressing');
    expect(await statuses()).toEqual(only('progressing'));

    await rollout.promote('a test');
    expect(await statuses()).toEqual(only('promoted'));
  });
});
