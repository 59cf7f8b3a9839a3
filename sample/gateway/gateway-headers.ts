import type { InferenceMetadata } from 'nestjs-inference';
import type { GatewayConfig } from '../config/gateway.config.js';

/**
 * Response headers a gateway's users ask for, each switched on by the configuration because they
 * reveal internals: `responseHeaders` (`GATEWAY_RESPONSE_HEADERS=true`) adds which provider and
 * rollout side served the call, whether it fell back, and what it cost; `relayRateLimits`
 * (`GATEWAY_RELAY_RATE_LIMITS=true`) relays the provider's `x-ratelimit-*` headers (unary calls).
 */
export function gatewayHeaders(
  inference: InferenceMetadata,
  config: Pick<GatewayConfig, 'responseHeaders' | 'relayRateLimits'>,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (config.responseHeaders) {
    headers['x-inference-provider'] = inference.provider;
    if (inference.side) headers['x-inference-side'] = inference.side;
    if (inference.fallbackFrom) headers['x-inference-fallback-from'] = inference.fallbackFrom;
    if (inference.cost) {
      headers['x-inference-cost-usd'] = inference.cost.usd.toFixed(8);
      if (inference.cost.estimated) headers['x-inference-cost-estimated'] = 'true';
    }
  }
  if (config.relayRateLimits && inference.rateLimit) {
    Object.assign(headers, inference.rateLimit);
  }
  return headers;
}
