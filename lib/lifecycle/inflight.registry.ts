import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TrackCall } from '../client/call-tracking.js';
import { InferenceShutdownError } from '../errors/index.js';
import { INFERENCE_LOGGER_CONTEXT, INFERENCE_OPTIONS } from '../inference.constants.js';
import type { Clock } from '../client/clock.js';
import { DrainBudgetWatch } from './drain-budget.watch.js';
import { InflightCall, InflightRequest, type InflightSnapshot } from './inflight-request.js';
import type { LifecycleOptions } from './shutdown-options.js';

/** Lifetime counts, for the shutdown summary and for metrics. */
export interface InflightFigures {
  /** Requests and top-level calls that ended on their own. */
  completed: number;
  /** Requests answered 503 and calls refused while draining. */
  rejected: number;
  /** Requests and top-level calls given up at the drain deadline. */
  abandoned: number;
}

/**
 * Every HTTP request and every upstream call in flight. Requests are tracked from their arrival
 * on the server until their response is written or their client is gone; a call made while
 * handling a request belongs to it, other calls are tracked on their own. `whenIdle()` resolves
 * as the last one ends: the drain waits on it, with no polling.
 */
@Injectable()
export class InflightRegistry {
  readonly figures: InflightFigures = { completed: 0, rejected: 0, abandoned: 0 };
  readonly #requests = new Set<InflightRequest>();
  readonly #calls = new Set<InflightCall>();
  /** Where a message keeps its entry: a property of its own, cheaper than a WeakMap per request. */
  readonly #entry = Symbol('nestjs-inference in-flight request');
  readonly #clock: Clock;
  readonly #retryAfterMs: number;
  readonly #watch: DrainBudgetWatch;
  #topLevelCalls = 0;
  #accepting = true;
  #idleWaiters: (() => void)[] = [];

  constructor(@Inject(INFERENCE_OPTIONS) options: LifecycleOptions) {
    this.#clock = options.clock;
    this.#retryAfterMs = options.shutdown.retryAfterMs;
    this.#watch = new DrainBudgetWatch(
      options.shutdown.drainTimeoutMs,
      new Logger(INFERENCE_LOGGER_CONTEXT),
    );
  }

  /** Requests plus calls not made by a request. */
  get size(): number {
    return this.#requests.size + this.#topLevelCalls;
  }

  /** Streams delivering chunks now. */
  get streaming(): number {
    let streams = 0;
    for (const call of this.#calls) if (call.state === 'streaming') streams++;
    return streams;
  }

  /** False once the drain has begun: new top-level work is refused. */
  get accepting(): boolean {
    return this.#accepting;
  }

  /** The p99 of request durations over the last 512 to 1024 requests, in ms. */
  get observedP99Ms(): number {
    return this.#watch.p99;
  }

  /**
   * Starts tracking a request; it ends when its response closes (written, or client gone). The
   * response gets the request's `x-request-id` at once, and the request's `signal` aborts if the
   * response closes before it is complete.
   */
  trackRequest(message: IncomingMessage, response: ServerResponse): InflightRequest {
    const existing = this.requestOf(message);
    if (existing) return existing;
    const request = new InflightRequest(
      message.headers['x-request-id'],
      message.method ?? 'GET',
      this.#clock.now(),
      response,
    );
    this.#requests.add(request);
    (message as Tagged)[this.#entry] = request;
    // Every response names its request, errors and 404s included; the interceptor may rename it.
    if (!response.headersSent) response.setHeader('x-request-id', request.id);
    response.once('close', () => {
      // Closed before the response was complete: the client is gone, and so is the call's reader.
      if (!response.writableFinished) request.clientGone();
      this.#endRequest(request);
    });
    return request;
  }

  requestOf(message: IncomingMessage): InflightRequest | undefined {
    return (message as Tagged)[this.#entry];
  }

  /**
   * The tracking of one upstream call, for the provider client. A call made while handling an
   * in-flight request belongs to it and is allowed while draining; any other call is refused then.
   */
  trackCall(
    requestId: string,
    provider: string,
    model: string,
    request: InflightRequest | undefined,
  ): TrackCall {
    return (stop) => {
      const parent = request && this.#requests.has(request) ? request : undefined;
      if (!parent && !this.#accepting) {
        this.figures.rejected++;
        throw new InferenceShutdownError(
          `The application is shutting down: the call to provider "${provider}" was refused. Retry on another instance.`,
          {
            provider,
            requestId,
            phase: 'shutdown',
            retryable: true,
            attempts: 0,
            retryAfterMs: this.#retryAfterMs,
          },
        );
      }
      const call = new InflightCall(
        requestId,
        provider,
        model,
        this.#clock.now(),
        parent,
        stop,
        this.#endCall,
      );
      this.#calls.add(call);
      if (parent) parent.calls.add(call);
      else this.#topLevelCalls++;
      return call;
    };
  }

  /** Counts a request refused at the door while draining. */
  recordRejection(): void {
    this.figures.rejected++;
  }

  /** From now on, calls that are not part of an in-flight request are refused. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /** Resolves as soon as nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Gives up on everything in flight: each upstream call is stopped (so its stream ends with a
   * terminal error event) and each request is marked abandoned. Returns their ids.
   */
  abandon(): string[] {
    const ids: string[] = [];
    for (const request of this.#requests) {
      if (request.abandoned) continue;
      request.abandoned = true;
      ids.push(request.id);
    }
    for (const call of [...this.#calls]) {
      if (!call.parent) {
        call.abandoned = true;
        ids.push(call.requestId);
      }
      call.stop(this.#retryAfterMs);
    }
    return ids;
  }

  /** The responses of the requests in flight. */
  *inflightResponses(): Iterable<ServerResponse> {
    for (const request of this.#requests) yield request.response;
  }

  /** The requests and top-level calls in flight now, oldest first. */
  list(): InflightSnapshot[] {
    const now = this.#clock.now();
    const snapshots: InflightSnapshot[] = [];
    for (const request of this.#requests) {
      const call = firstOf(request.calls);
      snapshots.push({
        kind: 'request',
        id: request.id,
        route: request.route,
        provider: call?.provider,
        model: call?.model,
        state: request.state,
        ageMs: now - request.startedAt,
      });
    }
    for (const call of this.#calls) {
      if (call.parent) continue;
      snapshots.push({
        kind: 'call',
        id: call.requestId,
        provider: call.provider,
        model: call.model,
        state: call.state,
        ageMs: now - call.startedAt,
      });
    }
    return snapshots.sort((a, b) => b.ageMs - a.ageMs);
  }

  #endRequest(request: InflightRequest): void {
    if (!this.#requests.delete(request)) return;
    if (request.abandoned) {
      this.figures.abandoned++;
    } else {
      this.figures.completed++;
      this.#watch.record(this.#clock.now() - request.startedAt);
    }
    this.#notifyIfIdle();
  }

  readonly #endCall = (call: InflightCall): void => {
    if (!this.#calls.delete(call)) return;
    if (call.parent) {
      call.parent.calls.delete(call);
      return;
    }
    this.#topLevelCalls--;
    if (call.abandoned) this.figures.abandoned++;
    else this.figures.completed++;
    this.#notifyIfIdle();
  };

  #notifyIfIdle(): void {
    if (this.size > 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

type Tagged = IncomingMessage & { [entry: symbol]: InflightRequest | undefined };

function firstOf<T>(set: ReadonlySet<T>): T | undefined {
  for (const value of set) return value;
  return undefined;
}
