/**
 * Metric and attribute names: the OpenTelemetry GenAI semantic conventions where they define one,
 * `inference.*` for this module's own. Label values come from configuration (provider and model
 * names, error codes, sides), never from a request, so cardinality stays bounded.
 */
export const METRIC = {
  operationDuration: 'gen_ai.client.operation.duration',
  tokenUsage: 'gen_ai.client.token.usage',
  timeToFirstChunk: 'gen_ai.client.operation.time_to_first_chunk',
  timePerOutputChunk: 'gen_ai.client.operation.time_per_output_chunk',
  retries: 'inference.client.retries',
  fallbacks: 'inference.client.fallbacks',
  cost: 'inference.client.cost',
  inFlightRequests: 'inference.requests.in_flight',
  activeStreams: 'inference.streams.active',
  canaryWeight: 'inference.canary.weight',
  canaryPhase: 'inference.canary.phase',
  canaryStatus: 'inference.canary.status',
  requestsEnded: 'inference.requests.ended',
  shutdownDuration: 'inference.shutdown.duration',
} as const;

export const ATTR = {
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  tokenType: 'gen_ai.token.type',
  maxTokens: 'gen_ai.request.max_tokens',
  temperature: 'gen_ai.request.temperature',
  errorType: 'error.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  side: 'inference.canary.side',
  status: 'inference.canary.status',
  streaming: 'inference.streaming',
  costEstimated: 'inference.cost.estimated',
  outcome: 'inference.request.outcome',
  shutdownPhase: 'inference.shutdown.phase',
} as const;

/** Bucket boundaries the GenAI conventions advise, in seconds and in tokens. */
export const DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
export const CHUNK_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5,
];
export const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
