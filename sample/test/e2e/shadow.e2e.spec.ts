import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedProvider } from 'nestjs-inference/testing';
import { withShadowPhase } from '../../rollout/rollout-phases.js';
import { startSampleApp, type SampleApp } from '../support/sample-app.js';
import { waitFor } from '../../../test/support/wait-for.js';

interface SampleReport {
  phase: number;
  weightPercent: number;
  shadow: { percent: number; running: number; live: { pairs: number } };
}

const ENV = {
  ROLLOUT_SHADOW_PERCENT: '100',
  ROLLOUT_SHADOW_DURATION: '1h',
  ROLLOUT_PHASES: '50:1h',
  ROLLOUT_INTERVAL_MS: '100',
  ROLLOUT_MIN_SAMPLES: '10',
};

describe('the sample with ROLLOUT_SHADOW_PERCENT: GET /rollout shadow section, POST /feedback', () => {
  let sample: SampleApp;
  let next: SimulatedProvider;
  let url: string;

  beforeAll(async () => {
    sample = await startSampleApp('express', ENV, { providers: { chunks: 4 } });
    ({ next, url } = sample);
  });
  afterAll(() => sample.close());

  const chat = (user: string) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('starts in a shadow phase: users served by legacy, mirrored to next, reported under shadow', async () => {
    await waitFor(
      async () => {
        const report = (await (await fetch(`${url}/rollout`)).json()) as { status: string };
        return report.status === 'progressing';
      },
      'the rollout to progress (after its warm-up probes)',
      15_000,
    );
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await chat(`u-${i}`);
      expect(response.status).toBe(200);
      ids.push(response.headers.get('x-request-id')!);
    }
    await waitFor(
      () => next.requests.filter((r) => r.path.endsWith('/chat/completions')).length === 5,
      'five mirrors',
    );
    // The mirrors reached next; wait for them to finish reading its answers.
    const report = async () => (await (await fetch(`${url}/rollout`)).json()) as SampleReport;
    await expect.poll(async () => (await report()).shadow.running).toBe(0);
    expect(await report()).toMatchObject({ phase: 1, weightPercent: 0 });
    expect((await report()).shadow).toMatchObject({ percent: 100, running: 0 });
    await waitFor(async () => {
      const live = ((await (await fetch(`${url}/rollout`)).json()) as SampleReport).shadow.live;
      return live.pairs === 5;
    }, 'five pairs in the live figures');

    // Feedback on a shadow-phase call attaches to the stable side that served it.
    const feedback = await fetch(`${url}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requestId: ids[0], name: 'clicked', value: true }),
    });
    expect(feedback.status).toBe(202);
    expect(await feedback.json()).toEqual({ attached: true });
    const unknown = await fetch(`${url}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requestId: 'nope', name: 'clicked', value: 1 }),
    });
    expect(await unknown.json()).toEqual({ attached: false });
    const bad = await fetch(`${url}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requestId: ids[0], name: 'clicked', value: 'yes' }),
    });
    expect(bad.status).toBe(400);
  });

  it('puts the shadow phase before the phases, or before the defaults', () => {
    expect(withShadowPhase([{ weight: 5, durationMs: 1_000 }], '10', '90s')).toEqual([
      { weight: 0, shadow: 10, durationMs: 90_000 },
      { weight: 5, durationMs: 1_000 },
    ]);
    expect(withShadowPhase(undefined, '5', undefined)![0]).toEqual({
      weight: 0,
      shadow: 5,
      durationMs: 900_000,
    });
    expect(withShadowPhase(undefined, undefined, '1h')).toBeUndefined();
    expect(() => withShadowPhase(undefined, '0', undefined)).toThrow(
      /ROLLOUT_SHADOW_PERCENT must be a percentage above 0/,
    );
  });
});
