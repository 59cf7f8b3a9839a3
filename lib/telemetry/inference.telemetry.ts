import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  createNoopMeter,
  INVALID_SPAN_CONTEXT,
  metrics,
  ProxyTracerProvider,
  SpanKind,
  trace,
  type Attributes,
  type BatchObservableResult,
  type Meter,
  type Observable,
  type Tracer,
} from '@opentelemetry/api';
import { CanaryRollout } from '../canary/canary.rollout.js';
import type { RolloutStatus } from '../canary/rollout-state.js';
import { INFERENCE_OPTIONS } from '../inference.constants.js';
import { InflightRegistry } from '../lifecycle/inflight.registry.js';
import { ShutdownCoordinator } from '../lifecycle/shutdown.coordinator.js';
import { ModelCatalog } from '../model/model-catalog.js';
import { createCallInstruments, type CallInstruments } from './call-instruments.js';
import type { TelemetryModuleOptions } from './telemetry-options.js';
import {
  callAttributes,
  CallTelemetry,
  DisabledCallTelemetry,
  type CallAttributes,
} from './call-telemetry.js';
import { ATTR, DURATION_BUCKETS, METRIC } from './telemetry-names.js';

const SCOPE = 'nestjs-inference';

/** Every rollout status (a record, so the compiler catches one left out), with its attributes. */
const STATUS_ATTRIBUTES = Object.keys({
  idle: true,
  warming: true,
  progressing: true,
  hold: true,
  paused: true,
  promoted: true,
  rolled_back: true,
} satisfies Record<RolloutStatus, true>).map((status) => ({
  status: status as RolloutStatus,
  attributes: { [ATTR.status]: status },
}));

/** A proxy with no delegate hands out no-op tracers. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider();

/** What a call is, when it starts. */
export interface CallStart {
  /** The GenAI operation: `chat` (the default) or `embeddings`. */
  operation?: 'chat' | 'embeddings';
  provider: string;
  /** The model sent; recorded as `other` when the configuration does not name it. */
  model: string;
  /** Where the provider lives, for the span's `server.*` attributes. */
  origin: string;
  side?: 'stable' | 'canary';
  streaming: boolean;
  maxTokens?: number;
  temperature?: number;
}

/**
 * Metrics and spans of every call, through `@opentelemetry/api`: a no-op until the app registers
 * an SDK (or passes `telemetry.meterProvider` / `tracerProvider`). Besides the calls, it reports
 * the requests and streams in flight, the rollout's weight and phase, and the shutdown's figures.
 */
@Injectable()
export class InferenceTelemetry implements OnModuleDestroy {
  readonly #tracer: Tracer;
  readonly #meter: Meter;
  readonly #instruments: CallInstruments;
  readonly #gauges: Observable[];
  readonly #unsubscribe: () => void;
  readonly #disabled: CallTelemetry | undefined;
  readonly #attributeSets = new Map<string, CallAttributes>();

  constructor(
    @Inject(INFERENCE_OPTIONS) options: TelemetryModuleOptions,
    private readonly catalog: ModelCatalog,
    private readonly inflight: InflightRegistry,
    private readonly rollout: CanaryRollout,
    shutdown: ShutdownCoordinator,
  ) {
    const { enabled, meterProvider, tracerProvider } = options.telemetry;
    // Off: the API's no-op providers, whatever the app registered.
    this.#meter = enabled
      ? (meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE)
      : createNoopMeter();
    this.#tracer = (
      enabled ? (tracerProvider ?? trace.getTracerProvider()) : NOOP_TRACER_PROVIDER
    ).getTracer(SCOPE);
    this.#instruments = createCallInstruments(this.#meter);
    this.#gauges = this.#observeState();
    if (!enabled) {
      this.#disabled = new DisabledCallTelemetry(
        this.#instruments,
        trace.wrapSpanContext(INVALID_SPAN_CONTEXT),
        callAttributes({}, {}),
      );
    }
    const shutdownDuration = this.#meter.createHistogram(METRIC.shutdownDuration, {
      description:
        'Time spent in each phase of a shutdown (readiness delay, drain, abandon, total).',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.#unsubscribe = shutdown.subscribe((event) => {
      if (event.type !== 'summary') return;
      const d = event.summary.durations;
      for (const [phase, ms] of [
        ['readiness_delay', d.readinessDelayMs],
        ['drain', d.drainMs],
        ['abandon', d.abandonMs],
        ['total', d.totalMs],
      ] as const) {
        shutdownDuration.record(ms / 1000, { [ATTR.shutdownPhase]: phase });
      }
    });
  }

  /** Starts a call's span; record its end with the returned `CallTelemetry.end()`. */
  start(call: CallStart): CallTelemetry {
    if (this.#disabled) return this.#disabled;
    const attributes = this.#attributesOf(call);
    // The span's attributes go in with its start: the model sent, even one the metrics call `other`.
    const spanAttributes =
      attributes.span[ATTR.requestModel] === call.model
        ? attributes.span
        : { ...attributes.span, [ATTR.requestModel]: call.model };
    const span = this.#tracer.startSpan(`${call.operation ?? 'chat'} ${call.model}`, {
      kind: SpanKind.CLIENT,
      attributes: spanAttributes,
    });
    if (span.isRecording()) {
      if (call.maxTokens !== undefined) span.setAttribute(ATTR.maxTokens, call.maxTokens);
      if (call.temperature !== undefined) span.setAttribute(ATTR.temperature, call.temperature);
    }
    return new CallTelemetry(this.#instruments, span, attributes);
  }

  /**
   * The metric attributes of a kind of call, built once per provider, model, side and mode: the
   * set is bounded by configuration, and a call allocates none.
   */
  #attributesOf(call: CallStart): CallAttributes {
    const model = this.catalog.knows(call.model) ? call.model : 'other';
    const operation = call.operation ?? 'chat';
    const key = `${operation}\n${call.provider}\n${model}\n${call.side ?? ''}\n${call.streaming}`;
    let set = this.#attributeSets.get(key);
    if (!set) {
      const base: Attributes = {
        [ATTR.operation]: operation,
        [ATTR.provider]: call.provider,
        [ATTR.requestModel]: model,
        [ATTR.streaming]: call.streaming,
      };
      if (call.side) base[ATTR.side] = call.side;
      const server = new URL(call.origin);
      set = callAttributes(base, {
        [ATTR.serverAddress]: server.hostname,
        [ATTR.serverPort]: Number(server.port || (server.protocol === 'https:' ? 443 : 80)),
      });
      this.#attributeSets.set(key, set);
    }
    return set;
  }

  onModuleDestroy(): void {
    this.#unsubscribe();
    this.#meter.removeBatchObservableCallback(this.#observe, this.#gauges);
  }

  #observeState(): Observable[] {
    const gauges = [
      this.#meter.createObservableUpDownCounter(METRIC.inFlightRequests, {
        description: 'HTTP requests and upstream calls in flight.',
        unit: '{request}',
      }),
      this.#meter.createObservableUpDownCounter(METRIC.activeStreams, {
        description: 'Streams delivering chunks now.',
        unit: '{stream}',
      }),
      this.#meter.createObservableGauge(METRIC.canaryWeight, {
        description: "The canary's share of sticky keys (0 to 1).",
        unit: '1',
      }),
      this.#meter.createObservableGauge(METRIC.canaryPhase, {
        description: 'The rollout phase (1-based; 0 before the first), with its status.',
        unit: '{phase}',
      }),
      // The SDK keeps reporting an attribute set once observed, so the phase gauge keeps a series
      // for every status it has seen. This one reports every status each time: 1 for the current.
      this.#meter.createObservableGauge(METRIC.canaryStatus, {
        description: 'The rollout status: 1 for the current one, 0 for each of the others.',
        unit: '1',
      }),
      this.#meter.createObservableCounter(METRIC.requestsEnded, {
        description:
          'Requests and top-level calls that ended, as the drain sees them: completed (ended by the app or its client, whatever the status), rejected while draining (503), or abandoned at the drain deadline.',
        unit: '{request}',
      }),
    ];
    gauges.push(this.#instruments.cost);
    this.#meter.addBatchObservableCallback(this.#observe, gauges);
    return gauges;
  }

  readonly #observe = (result: BatchObservableResult): void => {
    const [inFlight, streams, weight, phase, status, ended, cost] = this.#gauges;
    for (const set of this.#attributeSets.values()) {
      const { exact, estimated } = set.costUsd;
      if (exact > 0) result.observe(cost!, exact, set.exactCost);
      if (estimated > 0) result.observe(cost!, estimated, set.estimatedCost);
    }
    result.observe(inFlight!, this.inflight.size);
    result.observe(streams!, this.inflight.streaming);
    if (this.rollout.settings) {
      const state = this.rollout.state;
      result.observe(weight!, this.rollout.weightBps / 10_000);
      result.observe(phase!, state.phase + 1, { [ATTR.status]: state.status });
      for (const each of STATUS_ATTRIBUTES) {
        result.observe(status!, each.status === state.status ? 1 : 0, each.attributes);
      }
    }
    const figures = this.inflight.figures;
    result.observe(ended!, figures.completed, { [ATTR.outcome]: 'completed' });
    result.observe(ended!, figures.rejected, { [ATTR.outcome]: 'rejected' });
    result.observe(ended!, figures.abandoned, { [ATTR.outcome]: 'abandoned' });
  };
}
