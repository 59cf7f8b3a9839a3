import type { INestApplication } from '@nestjs/common';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedProvider } from 'nestjs-inference/testing';
import { adapters, type AdapterName } from '../../../test/support/http-app.js';
import { startGateway, startUpstreams, upstreamEnv } from '../support/sample-app.js';

const ADMIN = 'admin-token-e2e-0123';
const READER = 'read-token-e2e-4567';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: {
    status?: string;
    error?: { message: string; type: string; code: string | null; param: string | null };
  };
}

describe.each(Object.keys(adapters) as AdapterName[])('the rollout routes on %s', (adapter) => {
  let legacy: SimulatedProvider;
  let next: SimulatedProvider;
  let app: INestApplication | undefined;
  let url: string;

  beforeAll(async () => {
    ({ legacy, next } = await startUpstreams());
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    await Promise.all([legacy.close(), next.close()]);
  });

  async function start(tokens: { admin?: string; read?: string }): Promise<void> {
    ({ app, url } = await startGateway(adapter, {
      ...upstreamEnv(legacy, next),
      ROLLOUT_AUTOSTART: 'false',
      READINESS_DELAY_MS: '0',
      ...(tokens.admin ? { ROLLOUT_ADMIN_TOKEN: tokens.admin } : {}),
      ...(tokens.read ? { ROLLOUT_READ_TOKEN: tokens.read } : {}),
    }));
  }

  async function call(
    method: 'GET' | 'POST',
    path: string,
    authorization?: string,
    body?: string,
  ): Promise<Answer> {
    const response = await request(`${url}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(authorization ? { authorization } : {}),
      },
      body,
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: (await response.body.json()) as Answer['body'],
    };
  }

  it('refuses an unauthenticated action with a broken body as 401, before the body is parsed', async () => {
    await start({ admin: ADMIN });
    const refused = await call('POST', '/rollout/pause', undefined, '{not json');
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({
      type: 'authentication_error',
      code: 'missing_token',
      param: null,
    });
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="rollout"');
    // Refused inside the server's request listener, after the drain's gate counted the request
    // (the gate names every request it tracks): a drain waits for refusals too.
    expect(refused.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(refused.headers.connection).toBe('close');
    const wrong = await call('POST', '/rollout/pause', 'Bearer wrong', '{not json');
    expect([wrong.status, wrong.body.error?.code]).toEqual([401, 'invalid_token']);
    // The same paths as the routers match them: case, repeated and trailing slashes, escapes.
    for (const path of [
      '/ROLLOUT/pause',
      '//rollout//pause/',
      '/rollout%2Fpause',
      '/%72ollout/pause',
    ]) {
      expect([path, (await call('POST', path, undefined, '{not json')).status]).toEqual([
        path,
        401,
      ]);
    }
    // With the token, the body is parsed: the broken one is the caller's own 400.
    expect((await call('POST', '/rollout/pause', `Bearer ${ADMIN}`, '{not json')).status).toBe(400);
  });

  it('takes the bearer scheme in any case, and the token in constant time whatever its length', async () => {
    await start({ admin: ADMIN });
    const steps = [
      ['Bearer', 'start', 'warming'],
      ['bearer', 'pause', 'paused'],
      ['BEARER', 'resume', 'warming'],
    ] as const;
    for (const [scheme, action, status] of steps) {
      const moved = await call('POST', `/rollout/${action}`, `${scheme} ${ADMIN}`, '{}');
      expect([scheme, moved.status, moved.body.status]).toEqual([scheme, 200, status]);
    }
    for (const token of ['', 'x', ADMIN.slice(0, -1), `${ADMIN}x`, ADMIN.repeat(10)]) {
      const refused = await call('POST', '/rollout/pause', `Bearer ${token}`, '{}');
      expect([token, refused.status]).toEqual([token, 401]);
    }
    expect((await call('POST', '/rollout/pause', `Basic ${ADMIN}`, '{}')).status).toBe(401);
  });

  it('answers every refusal and rollout error in OpenAI’s error shape', async () => {
    await start({ admin: ADMIN });
    const unknown = await call('POST', '/rollout/unknown', `Bearer ${ADMIN}`, '{}');
    expect([unknown.status, unknown.body.error]).toEqual([
      404,
      expect.objectContaining({
        type: 'invalid_request_error',
        code: 'unknown_action',
        param: 'action',
      }),
    ]);
    const conflict = await call('POST', '/rollout/resume', `Bearer ${ADMIN}`, '{}');
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'rollout_action_not_applicable',
      message: expect.stringMatching(/Cannot resume the rollout/),
    });
    const badReason = await call('POST', '/rollout/start', `Bearer ${ADMIN}`, '{"salt":7}');
    expect([badReason.status, badReason.body.error?.param]).toEqual([400, 'salt']);
  });

  it('disables the actions (403) without an admin token, and leaves reading open without a read token', async () => {
    await start({});
    const refused = await call('POST', '/rollout/start', 'Bearer anything', '{not json');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      type: 'permission_error',
      code: 'rollout_actions_disabled',
      message: expect.stringMatching(/set ROLLOUT_ADMIN_TOKEN/),
    });
    expect((await call('GET', '/rollout')).status).toBe(200);
    expect((await call('GET', '/rollout/figures')).status).toBe(200);
    expect((await call('GET', '/rollout/events')).body).toEqual({ events: [] });
  });

  it('puts reading behind ROLLOUT_READ_TOKEN when set; the admin token reads too, the read token cannot act', async () => {
    await start({ admin: ADMIN, read: READER });
    // Refused before routing, so a path the router would not match is refused all the same.
    expect((await call('GET', '/rollout/')).status).toBe(401);
    for (const path of ['/rollout', '/rollout/figures', '/rollout/events']) {
      const refused = await call('GET', path);
      expect([path, refused.status, refused.body.error?.type]).toEqual([
        path,
        401,
        'authentication_error',
      ]);
      expect([path, (await call('GET', path, `Bearer ${READER}`)).status]).toEqual([path, 200]);
      expect([path, (await call('GET', path, `bearer ${ADMIN}`)).status]).toEqual([path, 200]);
      expect([path, (await call('GET', path, 'Bearer wrong')).status]).toEqual([path, 401]);
    }
    const reader = await call('POST', '/rollout/start', `Bearer ${READER}`, '{}');
    expect([reader.status, reader.body.error?.type, reader.body.error?.code]).toEqual([
      403,
      'permission_error',
      'insufficient_scope',
    ]);
    // The page itself holds no data: it loads, and asks for the token.
    const page = await request(`${url}/dashboard`);
    expect(page.statusCode).toBe(200);
    expect(await page.body.text()).toContain('needs a token');
  });

  it('records the transitions for GET /rollout/events, newest first', async () => {
    await start({ admin: ADMIN });
    await call('POST', '/rollout/start', `Bearer ${ADMIN}`, '{}');
    await call('POST', '/rollout/pause', `Bearer ${ADMIN}`, '{"reason":"checking a dashboard"}');
    const { body } = await call('GET', '/rollout/events');
    const events = (body as unknown as { events: { to: string; reason: string }[] }).events;
    expect(events.map((event) => event.to).slice(0, 2)).toEqual(['paused', 'warming']);
    expect(events[0]!.reason).toMatch(/checking a dashboard/);
  });

  it('serves the dashboard as one self-contained page whose policy allows this origin only', async () => {
    await start({ admin: ADMIN });
    const page = await request(`${url}/dashboard`);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/connect-src 'self'/);
    expect(csp).toMatch(/script-src 'sha256-/);
    const html = await page.body.text();
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    // The only URL on the page is SVG's namespace, which is a name and never fetched.
    expect(html.replaceAll("'http://www.w3.org/2000/svg'", '')).not.toMatch(/https?:\/\//);
  });
});
