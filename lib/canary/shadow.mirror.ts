import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type {
  ChatCompletion,
  ChatCompletionRequest,
  CompletionUsage,
} from '../client/chat.types.js';
import { timeoutSignal } from '../client/clock.js';
import { withoutUsage } from '../client/completion-stream.js';
import {
  usageOf,
  type ProviderClient,
  type ResolvedChatRequest,
  type UnaryCall,
} from '../client/provider.client.js';
import { ProviderRegistry } from '../client/provider.registry.js';
import { INFERENCE_OPTIONS } from '../inference.constants.js';
import { costOfCall } from '../pricing/call-cost.js';
import {
  AnswerCollector,
  answerOf,
  offersTools,
  qualityOf,
  similarity,
  type Answer,
} from './answer-quality.js';
import { outcomeOf } from './call-outcome.js';
import type { CanaryModuleOptions } from './canary-options.js';
import { CanaryRollout } from './canary.rollout.js';
import type { ShadowMetrics, ShadowSkip } from './shadow-metrics.js';

/** A served stable call picked for mirroring, with what is known of its answer. */
export interface ShadowJob {
  phaseKey: string;
  requestId: string;
  /** The request as sent to stable (its model is stable's concrete name). */
  request: ResolvedChatRequest;
  /** The canary's name for the request's model (from the routing decision). */
  canaryModel: string;
  streamed: boolean;
  served: Answer;
  /** Time to the answer (unary) or to the first chunk (streams), and in all. */
  servedLatencyMs: number;
  servedTotalMs: number;
  servedTokens?: number;
  servedUsd: number;
  /** The caller asked not to mirror this call (call option `shadow: false`). */
  excluded?: boolean;
}

/** One side's answer to a mirrored request. */
interface Mirrored {
  answer: Answer;
  latencyMs: number;
  totalMs: number;
  tokens?: number;
  usd: number;
}

const HOUR_MS = 3_600_000;

/**
 * Mirrors served stable calls to the canary in shadow phases and compares each pair. Off the
 * request path: a job starts after the answer was served, is never tracked as part of the
 * request (so it never holds the drain), and is aborted when the app starts shutting down.
 * Bounded by `canary.shadow.maxConcurrent` running calls and `maxUsdPerHour` of spend (from
 * the providers' prices; a call already running when the cap is reached still completes, so
 * spend can pass the cap by at most `maxConcurrent` calls). Its cost is counted in the shadow
 * figures only: never in the caller's cost, telemetry or the rollout's side figures. Its
 * answers are never returned to the application.
 */
@Injectable()
export class ShadowMirror implements OnApplicationShutdown {
  readonly #logger = new Logger('ShadowMirror');
  readonly #running = new Set<AbortController>();
  #comparing = 0;
  #stopped = false;
  #hour = -1;
  #spentThisHour = 0;

  constructor(
    @Inject(INFERENCE_OPTIONS) private readonly options: CanaryModuleOptions,
    private readonly providers: ProviderRegistry,
    private readonly rollout: CanaryRollout,
  ) {}

  /** Mirrored calls running now. */
  get running(): number {
    return this.#running.size;
  }

  /** Spent on mirroring in the current clock hour on this replica (US dollars). */
  get spentThisHour(): number {
    this.#rollHour();
    return this.#spentThisHour;
  }

  /** Whether mirroring stopped (the app is shutting down). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Mirrors a served call when the bounds allow; returns at once, the work runs later. */
  mirror(job: ShadowJob): void {
    const shadow = this.rollout.shadowMetrics(job.phaseKey);
    const settings = this.options.canary;
    if (!shadow || !settings) return;
    const skip = this.#skipReason(job, settings.shadow.excludeTools, settings.shadow.maxConcurrent);
    if (skip) {
      shadow.skip(skip);
      return;
    }
    const model = job.canaryModel;
    const controller = new AbortController();
    this.#running.add(controller);
    // After the caller has its answer: nothing of the mirror runs in the caller's turn.
    setImmediate(() => {
      this.#run(job, model, shadow, controller)
        .catch((error: unknown) =>
          this.#logger.warn(`A mirrored call could not be compared: ${String(error)}`),
        )
        .finally(() => this.#running.delete(controller));
    });
  }

  /** Stops mirroring: running calls are aborted, new ones are not started. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const controller of this.#running) controller.abort();
  }

  onApplicationShutdown(): void {
    this.stop();
  }

  #skipReason(
    job: ShadowJob,
    excludeTools: boolean,
    maxConcurrent: number,
  ): ShadowSkip | undefined {
    if (this.#stopped) return 'draining';
    if (job.excluded || (excludeTools && offersTools(job.request))) return 'excluded';
    if (this.#running.size >= maxConcurrent) return 'concurrency';
    if (this.spentThisHour >= this.options.canary!.shadow.maxUsdPerHour) return 'spend';
    return undefined;
  }

  async #run(
    job: ShadowJob,
    model: string,
    shadow: ShadowMetrics,
    controller: AbortController,
  ): Promise<void> {
    const settings = this.options.canary!;
    const canary = this.providers.get(settings.canary, job.requestId);
    let mirrored: Mirrored;
    try {
      mirrored = await this.#ask(canary, { ...job.request, model }, job, controller.signal);
    } catch (error) {
      const outcome = this.#stopped ? undefined : outcomeOf(error);
      if (outcome === undefined) shadow.skip('cancelled');
      else shadow.recordFailure(outcome, 0);
      return;
    }
    this.#spend(mirrored.usd);
    const served = job.served;
    const servedNames = served.toolCalls.map((call) => call.name).join(',');
    shadow.record({
      streamed: job.streamed,
      servedLatencyMs: job.servedLatencyMs,
      canaryLatencyMs: mirrored.latencyMs,
      servedTotalMs: job.servedTotalMs,
      canaryTotalMs: mirrored.totalMs,
      servedTokens: job.servedTokens,
      canaryTokens: mirrored.tokens,
      servedUsd: job.servedUsd,
      canaryUsd: mirrored.usd,
      served: qualityOf(job.request, served),
      canary: qualityOf(job.request, mirrored.answer),
      finishReasonsMatch: served.finishReason === mirrored.answer.finishReason,
      toolNamesMatch:
        served.toolCalls.length > 0
          ? servedNames === mirrored.answer.toolCalls.map((call) => call.name).join(',')
          : undefined,
      similarity: similarity(served.text, mirrored.answer.text),
    });
    await Promise.all([
      this.#baseline(job, shadow, controller.signal),
      this.#compare(job.request, served, mirrored.answer, shadow),
    ]);
  }

  /** Stable asked the same request again, for a share of pairs: how similar it is to itself. */
  async #baseline(job: ShadowJob, shadow: ShadowMetrics, signal: AbortSignal): Promise<void> {
    const settings = this.options.canary!;
    if (this.options.random() >= settings.shadow.baselineShare || this.#stopped) return;
    if (this.spentThisHour >= settings.shadow.maxUsdPerHour) return;
    const stable = this.providers.get(settings.stable, job.requestId);
    try {
      const again = await this.#ask(stable, job.request, job, signal);
      this.#spend(again.usd);
      shadow.recordBaseline(similarity(job.served.text, again.answer.text), again.usd);
    } catch {
      // A baseline that failed says nothing about the canary.
    }
  }

  /** The application's comparator, bounded in time and in concurrency. */
  async #compare(
    request: ChatCompletionRequest,
    served: Answer,
    canary: Answer,
    shadow: ShadowMetrics,
  ): Promise<void> {
    const settings = this.options.canary!.shadow;
    if (!settings.compare || this.#comparing >= settings.compareConcurrency) return;
    this.#comparing++;
    const timeout = timeoutSignal(this.options.clock, settings.compareTimeoutMs);
    const signal = timeout.signal;
    try {
      const timedOut = new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
      );
      const score = await Promise.race([
        settings.compare({ request, served, canary }, signal),
        timedOut,
      ]);
      const value = typeof score === 'boolean' ? Number(score) : score;
      shadow.recordComparison(Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : undefined);
    } catch {
      shadow.recordComparison(undefined);
    } finally {
      timeout.clear();
      this.#comparing--;
    }
  }

  /**
   * One mirrored call, unary or streamed (a stream is read to its end here, never returned): on
   * the provider's client directly, outside the call pipeline, so it is never tracked in flight
   * (it must not hold the drain), never judged as served traffic, and never retried.
   */
  async #ask(
    client: ProviderClient,
    request: ResolvedChatRequest,
    job: ShadowJob,
    signal: AbortSignal,
  ): Promise<Mirrored> {
    const scope = client.scope(
      undefined,
      [signal],
      this.providers.clock.now() + this.options.canary!.shadow.timeoutMs,
    );
    const call: UnaryCall = {
      requestId: job.requestId,
      scope,
      retry: client.retryPolicy(0),
      endpoint: 'chat',
      body: client.chatBody(request, job.streamed),
      attempts: 0,
      timeToHeadersMs: undefined,
      retrying: () => undefined,
    };
    try {
      const mirrored = job.streamed
        ? await this.#askStreamed(client, request, call)
        : await this.#askUnary(client, request, call);
      client.health.succeeded();
      return mirrored;
    } catch (error) {
      client.health.failed(error);
      throw error;
    } finally {
      scope.dispose();
    }
  }

  async #askUnary(
    client: ProviderClient,
    request: ResolvedChatRequest,
    call: UnaryCall,
  ): Promise<Mirrored> {
    const answer = (await client.unary(call)) as ChatCompletion;
    const totalMs = call.scope.elapsedMs();
    const usage = usageOf(answer.usage);
    return {
      answer: answerOf(answer),
      latencyMs: totalMs,
      totalMs,
      tokens: usage?.completion_tokens,
      usd: costOfCall(client.options.prices, request.model, usage)?.usd ?? 0,
    };
  }

  async #askStreamed(
    client: ProviderClient,
    request: ResolvedChatRequest,
    call: UnaryCall,
  ): Promise<Mirrored> {
    const open = await client.openStream(call);
    const collector = new AnswerCollector();
    let firstChunkMs: number | undefined;
    let usage: CompletionUsage | undefined;
    let chunks = 0;
    let done = false;
    try {
      for (let chunk = open.first; chunk !== undefined; chunk = await open.reader.read()) {
        if (chunk.usage) usage = chunk.usage;
        const content = withoutUsage(chunk);
        if (!content) continue;
        firstChunkMs ??= call.scope.elapsedMs();
        chunks++;
        collector.add(content);
      }
      done = true;
      open.reader.release();
    } catch (thrown) {
      throw client.classify(thrown, call, open.attempt);
    } finally {
      if (!done) open.response.body.destroy();
    }
    const totalMs = call.scope.elapsedMs();
    const cost = costOfCall(client.options.prices, request.model, usage, {
      messages: request.messages,
      chunks,
    });
    return {
      answer: collector.answer(),
      latencyMs: firstChunkMs ?? totalMs,
      totalMs,
      tokens: usage?.completion_tokens,
      usd: cost?.usd ?? 0,
    };
  }

  #spend(usd: number): void {
    this.#rollHour();
    this.#spentThisHour += usd;
  }

  #rollHour(): void {
    const hour = Math.floor(this.providers.clock.now() / HOUR_MS);
    if (hour !== this.#hour) {
      this.#hour = hour;
      this.#spentThisHour = 0;
    }
  }
}
