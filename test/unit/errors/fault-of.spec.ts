import { describe, expect, it } from 'vitest';
import { faultOf, InferenceHttpError, InferenceTimeoutError } from '../../../lib/errors/index.js';

const details = { provider: 'p', requestId: 'r', retryable: true } as const;
const deadline = () => new InferenceTimeoutError('total budget', { ...details, phase: 'deadline' });
const headers = () => new InferenceTimeoutError('headers', { ...details, phase: 'headers' });
const firstChunk = () =>
  new InferenceTimeoutError('first chunk', { ...details, phase: 'first-chunk' });

describe('faultOf: statuses', () => {
  const answered = (status: number) =>
    new InferenceHttpError(String(status), { ...details, phase: 'headers', status });

  it('counts the gateway’s own account (credentials, credit, proxy) as the provider’s fault', () => {
    for (const status of [401, 402, 403, 407]) expect(faultOf(answered(status))).toBe('provider');
  });

  it('counts a 4xx about the request as the client’s', () => {
    for (const status of [400, 404, 413, 422]) expect(faultOf(answered(status))).toBe('client');
  });
});

describe('a deadline the caller chose', () => {
  it('is the caller giving up, not a provider fault, for the budget it set', () => {
    expect(faultOf(deadline())).toBe('provider');
    expect(faultOf(deadline(), { totalMs: 500 })).toBe('cancelled');
    expect(faultOf(headers(), { headersMs: 500 })).toBe('cancelled');
    // The provider's own headers budget ran out: still the provider's.
    expect(faultOf(headers(), { totalMs: 500 })).toBe('provider');
    expect(faultOf(firstChunk(), { firstChunkMs: 500 })).toBe('cancelled');
    expect(faultOf(firstChunk(), { headersMs: 500 })).toBe('provider');
    const status = new InferenceHttpError('500', { ...details, phase: 'headers', status: 500 });
    expect(faultOf(status, { totalMs: 500 })).toBe('provider');
  });
});
