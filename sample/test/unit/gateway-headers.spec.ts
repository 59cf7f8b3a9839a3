import { describe, expect, it } from 'vitest';
import { gatewayHeaders } from '../../gateway/gateway-headers.js';

const inference = {
  provider: 'next',
  model: 'm',
  requestId: 'r',
  attempts: 1,
  timeToHeadersMs: 1,
  durationMs: 2,
  side: 'stable' as const,
  fallbackFrom: 'next',
  cost: { usd: 0.000123, estimated: false },
  rateLimit: { 'x-ratelimit-remaining-requests': '9' },
};

describe('the sample’s opt-in response headers', () => {
  it('reveal nothing unless switched on', () => {
    expect(gatewayHeaders(inference, { responseHeaders: false, relayRateLimits: false })).toEqual(
      {},
    );
  });

  it('say who served, whether it fell back, what it cost; and relay rate limits', () => {
    expect(gatewayHeaders(inference, { responseHeaders: true, relayRateLimits: false })).toEqual({
      'x-inference-provider': 'next',
      'x-inference-side': 'stable',
      'x-inference-fallback-from': 'next',
      'x-inference-cost-usd': '0.00012300',
    });
    expect(gatewayHeaders(inference, { responseHeaders: false, relayRateLimits: true })).toEqual({
      'x-ratelimit-remaining-requests': '9',
    });
  });
});
