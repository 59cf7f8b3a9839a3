import type { Counter, Histogram, Meter, ObservableCounter } from '@opentelemetry/api';
import { CHUNK_BUCKETS, DURATION_BUCKETS, METRIC, TOKEN_BUCKETS } from './telemetry-names.js';

/** The instruments every call records into. */
export interface CallInstruments {
  duration: Histogram;
  tokens: Histogram;
  timeToFirstChunk: Histogram;
  timePerOutputChunk: Histogram;
  retries: Counter;
  fallbacks: Counter;
  /** Reported at collection from the sums of each attribute set (see `CallAttributes.costUsd`). */
  cost: ObservableCounter;
}

export function createCallInstruments(meter: Meter): CallInstruments {
  return {
    duration: meter.createHistogram(METRIC.operationDuration, {
      description: 'Duration of GenAI client operations, retries and backoff included.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    tokens: meter.createHistogram(METRIC.tokenUsage, {
      description:
        'Tokens used per call, by type (input or output), as the provider reported them.',
      unit: '{token}',
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    }),
    timeToFirstChunk: meter.createHistogram(METRIC.timeToFirstChunk, {
      description:
        'Time from the start of a streamed call until its first chunk reached the caller.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    timePerOutputChunk: meter.createHistogram(METRIC.timePerOutputChunk, {
      description: 'Mean time between chunks after the first, per streamed call.',
      unit: 's',
      advice: { explicitBucketBoundaries: CHUNK_BUCKETS },
    }),
    retries: meter.createCounter(METRIC.retries, {
      description: 'Retries of calls to providers, by the error that caused them.',
      unit: '{retry}',
    }),
    fallbacks: meter.createCounter(METRIC.fallbacks, {
      description:
        'Canary calls that failed before answering and were sent to the stable provider.',
      unit: '{fallback}',
    }),
    cost: meter.createObservableCounter(METRIC.cost, {
      description:
        'What calls cost, from reported usage and configured prices (estimated when a stream was cut).',
      unit: 'USD',
    }),
  };
}
