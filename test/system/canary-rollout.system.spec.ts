import { Pool } from 'undici';
import type { RolloutReport } from '../../lib/canary/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callGateway, contentOf, type CallResult } from './support/load.js';
import { startSample, type SampleProcess } from './support/sample-process.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'rollout-admin-token-123';

async function rolloutOf(pool: Pool): Promise<RolloutReport> {
  const response = await pool.request({ method: 'GET', path: '/rollout' });
  return (await response.body.json()) as RolloutReport;
}

async function act(pool: Pool, action: string, authorization?: string) {
  const response = await pool.request({
    method: 'POST',
    path: `/rollout/${action}`,
    headers: {
      'content-type': 'application/json',
      ...(authorization ? { authorization } : {}),
    },
    body: '{}',
  });
  return {
    status: response.statusCode,
    body: (await response.body.json()) as Partial<RolloutReport> & { error?: { message: string } },
  };
}

describe('a canary rollout through the sample gateway (child process, simulated providers)', () => {
  let sample: SampleProcess;
  let pool: Pool;
  beforeAll(async () => {
    sample = await startSample({
      ROLLOUT_PHASES: '50:10m,100',
      ROLLOUT_INTERVAL_MS: '400',
      ROLLOUT_MIN_SAMPLES: '30',
      SIMULATED_CANARY_ERROR_RATE: '0.4',
      SIMULATED_FIRST_BYTE_MS: '5-20',
      ROLLOUT_ADMIN_TOKEN: TOKEN,
    });
    pool = new Pool(sample.url, { connections: 32 });
  });
  afterAll(async () => {
    await pool?.close();
    sample?.kill('SIGTERM');
    await sample?.exited;
  });

  it('rolls a failing canary back by itself, and clients see no error', async () => {
    await waitFor(
      async () => (await rolloutOf(pool)).status === 'progressing',
      'the warm-up to end',
      10_000,
    );
    const results: CallResult[] = [];
    let rolledBack = false;
    const client = async (user: number) => {
      for (let call = 0; !rolledBack && call < 200; call++) {
        const stream = call % 3 === 0;
        results.push(
          await callGateway(pool, `u${user}-${call}`, stream, { 'x-user-id': `user-${user}` }),
        );
      }
    };
    const watcher = (async () => {
      await waitFor(
        async () => (await rolloutOf(pool)).status === 'rolled_back',
        'the rollback',
        15_000,
      );
      rolledBack = true;
    })();
    await Promise.all([watcher, ...Array.from({ length: 16 }, (_, user) => client(user))]);

    const rollout = await rolloutOf(pool);
    expect(rollout.status).toBe('rolled_back');
    expect(rollout.weightPercent).toBe(0);
    // Retries hide most 500s from the calls, not from the attempts; either may breach first.
    expect(rollout.reason).toMatch(
      /a failing evaluation: canary (error rate|failure rate|attempt error rate)/,
    );
    expect(rollout.sides.canary.calls).toBeGreaterThanOrEqual(30);
    expect(rollout.sides.canary.failedAttempts).toBeGreaterThan(0);
    expect(rollout.sides.stable.calls).toBeGreaterThan(0);

    // Every call answered in full: the canary's 500s went to the stable provider instead.
    const failed = results.filter(
      (result) =>
        result.status !== 200 ||
        contentOf(result).text !== contentOf(results[0]!).text ||
        !contentOf(result).done,
    );
    expect(results.length).toBeGreaterThan(50);
    expect(failed).toEqual([]);
    expect(sample.output()).toMatch(/Rollout rolled_back: (progressing|hold) → rolled_back/);

    // Rolled back is sticky: every user is on legacy now.
    const after = await callGateway(pool, 'after', false, { 'x-user-id': 'user-1' });
    expect(JSON.parse(after.body).model).toBe('gpt-4.1');
  });

  it('guards the operator actions with the admin token', async () => {
    expect((await act(pool, 'start')).status).toBe(401);
    expect((await act(pool, 'start', 'Bearer wrong-token')).status).toBe(401);
    const resumed = await act(pool, 'resume', `Bearer ${TOKEN}`);
    expect(resumed.status).toBe(409);
    expect(resumed.body.error?.message).toMatch(
      /Cannot resume the rollout: the rollout is rolled_back/,
    );
    const started = await act(pool, 'start', `Bearer ${TOKEN}`);
    expect([started.status, started.body.status]).toEqual([200, 'warming']);
    const paused = await act(pool, 'pause', `Bearer ${TOKEN}`);
    expect([paused.status, paused.body.status]).toEqual([200, 'paused']);
    expect((await act(pool, 'promote', `Bearer ${TOKEN}`)).body).toMatchObject({
      status: 'promoted',
      weightPercent: 100,
    });
    expect((await act(pool, 'unknown', `Bearer ${TOKEN}`)).status).toBe(404);
    expect(sample.output()).not.toContain(TOKEN);
  });
});

describe('rollout actions without ROLLOUT_ADMIN_TOKEN', () => {
  it('are disabled (403), while the status stays readable', async () => {
    const sample = await startSample({ ROLLOUT_AUTOSTART: 'false' });
    const pool = new Pool(sample.url);
    try {
      expect((await rolloutOf(pool)).status).toBe('idle');
      const refused = await act(pool, 'start', 'Bearer anything');
      expect(refused.status).toBe(403);
      expect(refused.body.error?.message).toMatch(/set ROLLOUT_ADMIN_TOKEN/);
    } finally {
      await pool.close();
      sample.kill('SIGTERM');
      await sample.exited;
    }
  });
});
