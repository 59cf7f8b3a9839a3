import { registerAs, type ConfigType } from '@nestjs/config';
import { fromEnvironment } from './environment.js';

/**
 * What the OpenAI-compatible routes reveal and allow, all off by default:
 * `ALLOW_PROVIDER_HEADER=true` lets `x-inference-provider` pin a call to a provider (any client
 * could otherwise steer its calls around the rollout); `GATEWAY_RESPONSE_HEADERS=true` says which
 * provider and side served a unary call, whether it fell back, and what it cost;
 * `GATEWAY_RELAY_RATE_LIMITS=true` relays the provider's `x-ratelimit-*` headers.
 */
export const gatewayConfig = registerAs(
  'gateway',
  fromEnvironment('gateway', (env) => ({
    allowProviderHeader: env.flag('ALLOW_PROVIDER_HEADER', false),
    responseHeaders: env.flag('GATEWAY_RESPONSE_HEADERS', false),
    relayRateLimits: env.flag('GATEWAY_RELAY_RATE_LIMITS', false),
  })),
);

export type GatewayConfig = ConfigType<typeof gatewayConfig>;
