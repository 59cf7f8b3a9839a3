import { describe, expect, it } from 'vitest';
import { gatewayHeaders } from '../../sample/gateway-headers.js';

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
    expect(gatewayHeaders(inference, {})).toEqual({});
  });

  it('say who served, whether it fell back, what it cost; and relay rate limits', () => {
    expect(gatewayHeaders(inference, { GATEWAY_RESPONSE_HEADERS: 'true' })).toEqual({
      'x-inference-provider': 'next',
      'x-inference-side': 'stable',
      'x-inference-fallback-from': 'next',
      'x-inference-cost-usd': '0.00012300',
    });
    expect(gatewayHeaders(inference, { GATEWAY_RELAY_RATE_LIMITS: 'true' })).toEqual({
      'x-ratelimit-remaining-requests': '9',
    });
  });
});
