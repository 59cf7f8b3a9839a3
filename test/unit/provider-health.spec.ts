import { describe, expect, it } from 'vitest';
import { faultOf, InferenceHttpError, InferenceTimeoutError } from '../../lib/errors/index.js';

const details = { provider: 'p', requestId: 'r', retryable: true } as const;
const deadline = () => new InferenceTimeoutError('total budget', { ...details, phase: 'deadline' });
const headers = () => new InferenceTimeoutError('headers', { ...details, phase: 'headers' });

describe('a deadline the caller chose', () => {
  it('is the caller giving up, not a provider fault, for the budget it set', () => {
    expect(faultOf(deadline())).toBe('provider');
    expect(faultOf(deadline(), { totalMs: 500 })).toBe('cancelled');
    expect(faultOf(headers(), { headersMs: 500 })).toBe('cancelled');
    // The provider's own headers budget ran out: still the provider's.
    expect(faultOf(headers(), { totalMs: 500 })).toBe('provider');
    const status = new InferenceHttpError('500', { ...details, phase: 'headers', status: 500 });
    expect(faultOf(status, { totalMs: 500 })).toBe('provider');
  });
});
