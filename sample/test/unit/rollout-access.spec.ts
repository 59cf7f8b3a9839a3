import type { ExecutionContext } from '@nestjs/common';
import { HttpException } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RolloutAccess } from '../../rollout/rollout-access.js';
import { RolloutAdminGuard, RolloutReadGuard } from '../../rollout/rollout-admin.guard.js';
import { scopeOf } from '../../rollout/rollout-auth.middleware.js';

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

function accessWith(adminToken?: string, readToken?: string): RolloutAccess {
  return new RolloutAccess({ adminToken, readToken });
}

function contextWith(authorization?: string): ExecutionContext {
  const request = { headers: authorization ? { authorization } : {} };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

afterEach(() => {
  vi.mocked(crypto.timingSafeEqual).mockClear();
});

describe('RolloutAccess (the sample’s rollout tokens)', () => {
  it('compares tokens through timingSafeEqual over equal-length digests, whatever the length given', () => {
    const access = accessWith('the-admin-token', 'the-read-token');
    for (const given of ['x', 'the-admin-toke', 'the-admin-token-and-more'.repeat(20)]) {
      expect(access.check(`Bearer ${given}`, 'admin')?.status).toBe(401);
    }
    expect(access.check('Bearer the-admin-token', 'admin')).toBeUndefined();
    const calls = vi.mocked(crypto.timingSafeEqual).mock.calls;
    expect(calls.length).toBeGreaterThanOrEqual(8); // both tokens, every time
    for (const [a, b] of calls) {
      expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
    }
  });

  it('reads the bearer scheme case-insensitively, and nothing else', () => {
    const access = accessWith('t0ken');
    for (const header of ['Bearer t0ken', 'bearer t0ken', 'BeArEr   t0ken ']) {
      expect([header, access.check(header, 'admin')]).toEqual([header, undefined]);
    }
    for (const header of ['t0ken', 'Basic t0ken', 'Bearer', 'Bearer t0ken extra', 'Bearert0ken']) {
      expect([header, access.check(header, 'admin')?.status]).toEqual([header, 401]);
    }
  });

  it('names what is missing, in OpenAI’s error shape', () => {
    expect(accessWith().check('Bearer x', 'admin')).toEqual({
      status: 403,
      body: {
        error: {
          message: 'Rollout actions are disabled: set ROLLOUT_ADMIN_TOKEN to enable them.',
          type: 'permission_error',
          code: 'rollout_actions_disabled',
          param: null,
        },
      },
    });
    const access = accessWith('admin', 'reader');
    expect(access.check(undefined, 'read')?.body.error).toMatchObject({
      type: 'authentication_error',
      code: 'missing_token',
      message: expect.stringMatching(/ROLLOUT_READ_TOKEN/),
    });
    expect(access.check('Bearer nope', 'read')?.body.error.code).toBe('invalid_token');
    expect(access.check('Bearer reader', 'admin')?.body.error.code).toBe('insufficient_scope');
    expect(access.check('Bearer reader', 'read')).toBeUndefined();
    expect(access.check('Bearer admin', 'read')).toBeUndefined();
    expect(accessWith('admin').check(undefined, 'read')).toBeUndefined();
    expect(accessWith('admin').readProtected).toBe(false);
    expect(access.readProtected).toBe(true);
  });

  it('backs the guards, which refuse with the same body', () => {
    const access = accessWith('admin', 'reader');
    const admin = new RolloutAdminGuard(access);
    const read = new RolloutReadGuard(access);
    expect(admin.canActivate(contextWith('bearer admin'))).toBe(true);
    expect(read.canActivate(contextWith('Bearer reader'))).toBe(true);
    let refusal: unknown;
    try {
      admin.canActivate(contextWith('Bearer reader'));
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(HttpException);
    expect((refusal as HttpException).getStatus()).toBe(403);
    expect((refusal as HttpException).getResponse()).toMatchObject({
      error: { type: 'permission_error' },
    });
    expect(() => read.canActivate(contextWith())).toThrow(HttpException);
  });
});

describe('scopeOf (which requests the auth middleware checks)', () => {
  it('matches the rollout routes as the routers may match them', () => {
    expect(scopeOf('GET', '/rollout')).toBe('read');
    expect(scopeOf('HEAD', '/rollout/figures?x=1')).toBe('read');
    expect(scopeOf('POST', '/Rollout/Pause')).toBe('admin');
    expect(scopeOf('POST', '//rollout///pause/')).toBe('admin');
    expect(scopeOf('POST', '/%72ollout/pause')).toBe('admin');
    expect(scopeOf('POST', '/rollout%2fpause')).toBe('admin');
    expect(scopeOf('POST', '/%E0%A4%A/rollout')).toBeUndefined(); // bad escape: taken as is
    expect(scopeOf('GET', '/rollouts')).toBeUndefined();
    expect(scopeOf('GET', '/dashboard')).toBeUndefined();
    expect(scopeOf('POST', '/v1/chat/completions')).toBeUndefined();
    expect(scopeOf('DELETE', '/rollout')).toBeUndefined();
  });
});
