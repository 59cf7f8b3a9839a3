import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhaseFigures, RolloutReport } from '../../lib/canary/index.js';
import { CHROMIUM, dumpDom, openPage } from '../support/chromium.js';
import { waitFor } from '../support/wait-for.js';
import { callGateway } from './support/load.js';
import { startSample, type SampleProcess } from './support/sample-process.js';

const ADMIN = 'dashboard-admin-token';
const READER = 'dashboard-read-token';

// CI installs chromium (.ci/run); only a machine without it skips, and says so.
if (!CHROMIUM && process.env.CI) {
  throw new Error('chromium is missing on CI: .ci/run installs it (apt-get install chromium)');
}
if (!CHROMIUM) {
  console.warn(
    'Skipping the dashboard page tests: chromium not found (apt-get install -y chromium, or set CHROMIUM_PATH).',
  );
}

async function get<T>(pool: Pool, path: string, token = ADMIN): Promise<T> {
  const response = await pool.request({
    method: 'GET',
    path,
    headers: { authorization: `Bearer ${token}` },
  });
  return (await response.body.json()) as T;
}

/** The text of the element with `id` in a dumped DOM. */
function textOf(dom: string, id: string): string | undefined {
  return new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(dom)?.[1];
}

/** The stable and canary cells of a figures table's row. */
function rowOf(dom: string, table: string, row: string): [string, string] | undefined {
  const body = new RegExp(`<tbody id="${table}">(.*?)</tbody>`, 's').exec(dom)?.[1] ?? '';
  const match = new RegExp(
    `data-row="${row}"><td>[^<]*</td><td class="stable">([^<]*)</td><td class="canary">([^<]*)</td>`,
  ).exec(body);
  return match ? [match[1]!, match[2]!] : undefined;
}

describe.skipIf(!CHROMIUM)('the rollout dashboard in headless Chromium', () => {
  let sample: SampleProcess;
  let pool: Pool;

  beforeAll(async () => {
    sample = await startSample({
      ROLLOUT_PHASES: '50:10m,100',
      ROLLOUT_INTERVAL_MS: '300',
      ROLLOUT_MIN_SAMPLES: '10',
      SIMULATED_FIRST_BYTE_MS: '5-40',
      ROLLOUT_ADMIN_TOKEN: ADMIN,
      ROLLOUT_READ_TOKEN: READER,
    });
    pool = new Pool(sample.url, { connections: 16 });
    await waitFor(
      async () => (await get<RolloutReport>(pool, '/rollout')).status === 'progressing',
      'the warm-up to end',
      15_000,
    );
    // Some traffic on both sides, unary and streamed, then an evaluation that counts it all.
    await Promise.all(
      Array.from({ length: 80 }, (_, call) =>
        callGateway(pool, `d${call}`, call % 3 === 0, { 'x-user-id': `user-${call}` }),
      ),
    );
    await waitFor(
      async () => {
        const report = await get<RolloutReport>(pool, '/rollout');
        return report.sides.stable.calls + report.sides.canary.calls === 80;
      },
      'an evaluation of the traffic',
      10_000,
    );
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    sample?.kill('SIGTERM');
    await sample?.exited;
  });

  it('asks for a token and shows nothing while reading needs one', async () => {
    const dom = await dumpDom(`${sample.url}/dashboard`);
    expect(dom).toMatch(/<div id="auth">/); // no longer hidden
    expect(dom).toMatch(/<main id="dashboard" hidden/);
    expect(textOf(dom, 'auth-reason')).toMatch(/Bearer &lt;ROLLOUT_READ_TOKEN&gt;/);
    expect(rowOf(dom, 'live-figures', 'calls')).toBeUndefined();
  }, 60_000);

  it('renders the state, phase, weight, per-side figures, verdict and events it polls, and a screenshot', async () => {
    const page = await openPage(`${sample.url}/dashboard`);
    try {
      // The operator types the read token once; the tab keeps it for its polls.
      await page.evaluate(`new Promise((resolve) => {
        const field = document.getElementById('read-token');
        field.value = ${JSON.stringify(READER)};
        field.form.requestSubmit();
        const check = () => document.getElementById('dashboard').hidden ? setTimeout(check, 50) : resolve(true);
        check();
      })`);
      // More traffic while it polls, so its charts have a history to draw.
      const polls = () => page.evaluate<number>('samples.length');
      for (const burst of [1, 2]) {
        const seen = await polls();
        await Promise.all(
          Array.from({ length: 20 }, (_, call) =>
            callGateway(pool, `b${burst}-${call}`, call % 3 === 0, { 'x-user-id': `b${call}` }),
          ),
        );
        await waitFor(async () => (await polls()) >= seen + 2, 'two more polls', 15_000);
      }
      await waitFor(
        async () => {
          const report = await get<RolloutReport>(pool, '/rollout');
          return report.sides.stable.calls + report.sides.canary.calls === 120;
        },
        'an evaluation of the traffic',
        10_000,
      );
      const seen = await polls();
      await waitFor(async () => (await polls()) > seen, 'a poll after it', 15_000);
      const dom = await page.evaluate<string>('document.documentElement.outerHTML');
      const report = await get<RolloutReport>(pool, '/rollout');
      const figures = await get<PhaseFigures>(pool, '/rollout/figures');
      expect(textOf(dom, 'status')).toBe(report.status);
      expect(textOf(dom, 'phase')).toBe('1 / 2');
      expect(textOf(dom, 'weight')).toBe('50%');
      expect(textOf(dom, 'providers')).toBe('legacy → next');
      expect(textOf(dom, 'verdict')).toBe(report.lastVerdict!.kind);
      expect(rowOf(dom, 'live-figures', 'calls')).toEqual([
        String(figures.stable.calls),
        String(figures.canary.calls),
      ]);
      expect(rowOf(dom, 'judged-figures', 'calls')).toEqual([
        String(report.sides.stable.calls),
        String(report.sides.canary.calls),
      ]);
      expect(rowOf(dom, 'judged-figures', 'p99')).toEqual([
        `${Math.round(report.sides.stable.p99Ms)} ms`,
        `${Math.round(report.sides.canary.p99Ms)} ms`,
      ]);
      expect(rowOf(dom, 'judged-figures', 'first chunk p50')?.[1]).toBe(
        `${Math.round(report.sides.canary.firstChunk.p50Ms)} ms`,
      );
      expect(rowOf(dom, 'judged-figures', 'cost / 1,000 calls')?.[0]).toMatch(/^\$\d/);
      expect(dom).toMatch(/started: idle → warming/);
      expect(dom).toMatch(/progressing: warming → progressing/);
      // The charts are drawn by the page from what it polled.
      expect(dom).toMatch(/<svg id="split-chart"[^>]*>\s*<rect/);
      expect(dom).toMatch(/data-series="canary-p99Ms" points="[\d.]+,[\d.]+/);
      const path = process.env.DASHBOARD_SCREENSHOT ?? join(tmpdir(), 'dashboard.png');
      mkdirSync(dirname(path), { recursive: true });
      await page.screenshot(path);
      expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await page.close();
    }
  }, 90_000);

  it('moves the rollout from its buttons with the admin token, and refuses them with the read token', async () => {
    const page = await openPage(`${sample.url}/dashboard`);
    try {
      const press = (token: string, action: string) =>
        page.evaluate<string>(`new Promise((resolve) => {
          window.confirm = () => true;
          sessionStorage.setItem('rolloutToken', ${JSON.stringify(token)});
          const message = document.getElementById('message');
          message.textContent = '';
          document.querySelector('button[data-action=${action}]').click();
          const check = () => message.textContent ? resolve(message.textContent) : setTimeout(check, 50);
          check();
        })`);
      expect(await press(READER, 'pause')).toMatch(
        /pause refused \(403\): The read token cannot act/,
      );
      expect(await press(ADMIN, 'pause')).toBe('pause: the rollout is paused');
      expect((await get<RolloutReport>(pool, '/rollout')).status).toBe('paused');
      expect(await press(ADMIN, 'resume')).toMatch(/^resume: the rollout is (progressing|hold)$/);
      expect((await get<RolloutReport>(pool, '/rollout')).reason).toMatch(
        /resume from the dashboard/,
      );
    } finally {
      await page.close();
    }
  }, 90_000);
});
