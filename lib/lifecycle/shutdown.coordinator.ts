import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import type { Clock } from '../client/clock.js';
import { INFERENCE_LOGGER_CONTEXT, INFERENCE_OPTIONS } from '../inference.constants.js';
import { HttpServerGate } from './http-server.gate.js';
import { InflightRegistry } from './inflight.registry.js';
import type { ShutdownEvent, ShutdownPhase, ShutdownSummary } from './shutdown-events.js';
import type { LifecycleOptions, ShutdownOptions } from './shutdown-options.js';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Adapters whose own `beforeClose()` the coordinator wrapped: Nest awaits it before any hook. */
const HOOKED_ADAPTERS = new WeakSet<object>();

/**
 * Whether Nest awaits `adapter.beforeClose()` before the app's shutdown hooks: Nest 12's adapters
 * have the method (its `app.close()` calls it first); Nest 11's have none and nothing calls one.
 */
export function awaitsBeforeClose(adapter: object | undefined): boolean {
  if (!adapter) return false;
  return (
    HOOKED_ADAPTERS.has(adapter) ||
    typeof (adapter as { beforeClose?: unknown }).beforeClose === 'function'
  );
}

/**
 * Runs the shutdown contract when Nest closes the app (`app.enableShutdownHooks()` on a signal,
 * or `app.close()`). It hooks the HTTP adapter's `beforeClose`, which Nest awaits before any
 * `onModuleDestroy`, so the drain ends before the app's own hooks run:
 *
 * 1. readiness fails at once; 2. the app serves for `readinessDelayMs`, every response now with
 * `Connection: close`; 3. the listener closes, open sockets are left alone; 4. it waits, up to
 * `drainTimeoutMs`, until no request is in flight (a request that arrives on an old socket is
 * served too) and every connection has closed (after its `Connection: close` answer, or idle at
 * its keep-alive expiry); 5. at the deadline later requests get 503, the remaining upstream
 * calls are stopped (open streams end with a terminal error event) and after `abandonGraceMs`
 * the sockets left are destroyed; 6. Nest goes on with the app's hooks. A second signal during
 * the drain ends it at once (7), and one summary is logged and emitted (8).
 *
 * Nest 11's adapters have no `beforeClose()`: there `enableInferenceShutdownHooks(app)` runs the
 * drain before `app.close()`. Without it the drain runs in this provider's `onModuleDestroy`, among
 * the other modules' hooks (Nest 11 runs the root module's first), and startup says so.
 */
@Injectable()
export class ShutdownCoordinator
  implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown
{
  readonly #options: Readonly<ShutdownOptions>;
  readonly #clock: Clock;
  readonly #logger = new Logger(INFERENCE_LOGGER_CONTEXT);
  readonly #listeners = new Set<(event: ShutdownEvent) => void>();
  #phase: ShutdownPhase = 'serving';
  #gate: HttpServerGate | undefined;
  #drain: Promise<void> | undefined;
  #summary: ShutdownSummary | undefined;
  #forced = false;
  #hooked = false;
  #signalsHandled = false;
  readonly #sleepers = new Set<() => void>();

  constructor(
    private readonly registry: InflightRegistry,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(INFERENCE_OPTIONS) options: LifecycleOptions,
  ) {
    this.#options = options.shutdown;
    this.#clock = options.clock;
  }

  get phase(): ShutdownPhase {
    return this.#phase;
  }

  /** True until the shutdown begins: what a readiness probe reports. */
  get ready(): boolean {
    return this.#phase === 'serving';
  }

  /** The summary of the shutdown, once it is over. */
  get summary(): ShutdownSummary | undefined {
    return this.#summary;
  }

  /** Calls `listener` with each phase change and the final summary. Returns the unsubscribe. */
  subscribe(listener: (event: ShutdownEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onApplicationBootstrap(): void {
    this.#warnIfOverGracePeriod();
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return;
    const server = adapter.getHttpServer() as Server | undefined;
    if (server && typeof server.closeIdleConnections === 'function') {
      this.#gate = new HttpServerGate(server, this.registry, {
        ...this.#options,
        clock: this.#clock,
      });
      this.#warnIfIdleConnectionsOutlastDrain(this.#gate);
    }
    if (!awaitsBeforeClose(adapter)) {
      // Nest 11: nothing would call a beforeClose() of ours; onModuleDestroy drains instead.
      if (!this.#signalsHandled) {
        this.#logger.warn(
          `shutdown: this Nest version's HTTP adapter has no beforeClose() (Nest 11), so app.enableShutdownHooks() would run the drain among the onModuleDestroy hooks, after those of modules nearer the root. Call enableInferenceShutdownHooks(app), exported by nestjs-inference, instead of app.enableShutdownHooks(), before app.listen(), so the drain comes before your own hooks.`,
        );
      }
      return;
    }
    HOOKED_ADAPTERS.add(adapter);
    this.#hooked = true;
    // Nest awaits the adapter's beforeClose() before it calls any onModuleDestroy hook. (Typed by
    // hand: Nest 11's adapter type has no such method, and the package builds against both.)
    const closing = adapter as unknown as { beforeClose: () => unknown };
    const beforeClose = closing.beforeClose.bind(adapter);
    closing.beforeClose = async () => {
      await this.drain();
      await beforeClose();
    };
  }

  /**
   * Called by `enableInferenceShutdownHooks`, which drains before `app.close()` on a signal: no
   * startup warning about Nest 11's missing `beforeClose()` then.
   * @internal
   */
  signalsHandledBeforeClose(): void {
    this.#signalsHandled = true;
  }

  /** The exit code the process must end with after this shutdown, if not the signal's own. */
  get exitCode(): number | undefined {
    return (this.#summary?.abandoned ?? 0) > 0 ? this.#options.abandonedExitCode : undefined;
  }

  /** Runs the drain, once; later calls wait for the same one. */
  drain(): Promise<void> {
    return (this.#drain ??= this.#run());
  }

  /**
   * Without an HTTP adapter (an application context, a microservice), or on Nest 11 without
   * `enableInferenceShutdownHooks`, there is no `beforeClose` to hook: the drain runs here, among
   * the other modules' hooks. After the helper's drain, this returns the same finished drain.
   */
  async onModuleDestroy(): Promise<void> {
    if (!this.#hooked) await this.drain();
  }

  onApplicationShutdown(signal?: string): void {
    this.#stopListening();
    const abandoned = this.#summary?.abandoned ?? 0;
    if (signal && abandoned > 0 && process.listenerCount(signal) > 0) {
      // Nest re-raises the signal once every hook has run: exit with the documented code instead.
      const code = this.#options.abandonedExitCode;
      process.once(signal, () => process.exit(code));
    }
  }

  async #run(): Promise<void> {
    const startedAt = this.#clock.now();
    this.#listen();
    this.#enter('readiness-delay');
    this.#gate?.beginDrain();
    this.#logger.log(
      `Shutdown: readiness now fails; serving for ${this.#options.readinessDelayMs} ms with Connection: close so load balancers and keep-alive clients leave (${this.registry.size} in flight).`,
    );
    const before = { ...this.registry.figures };
    await this.#sleep(this.#options.readinessDelayMs);

    const drainStartedAt = this.#clock.now();
    this.registry.stopAccepting();
    await this.#gate?.stopAccepting();
    this.#enter('draining');
    this.#logger.log(
      `Shutdown: stopped accepting; draining ${this.registry.size} in flight${this.#gate ? ` on ${this.#gate.openConnections} open connections` : ''} (deadline ${this.#options.drainTimeoutMs} ms).`,
    );
    const drained = await Promise.race([
      this.#settled().then(() => true),
      this.#sleep(this.#options.drainTimeoutMs).then(() => false),
    ]);
    this.#wakeAll();

    const abandonStartedAt = this.#clock.now();
    let abandonedIds: string[] = [];
    if (drained) {
      this.#logger.log(`Shutdown: drained in ${Math.round(abandonStartedAt - drainStartedAt)} ms.`);
    } else {
      this.#enter('abandoning');
      this.#gate?.refuseFromNowOn();
      abandonedIds = this.#abandon();
      await Promise.race([this.registry.whenIdle(), this.#sleep(this.#options.abandonGraceMs)]);
      this.#wakeAll();
      this.#gate?.destroyAll();
    }

    const endedAt = this.#clock.now();
    const after = this.registry.figures;
    this.#summary = {
      completed: after.completed - before.completed,
      rejected: after.rejected - before.rejected,
      abandoned: abandonedIds.length,
      abandonedIds,
      forced: this.#forced,
      durations: {
        readinessDelayMs: Math.round(drainStartedAt - startedAt),
        drainMs: Math.round(abandonStartedAt - drainStartedAt),
        abandonMs: Math.round(endedAt - abandonStartedAt),
        totalMs: Math.round(endedAt - startedAt),
      },
    };
    this.#enter('closing');
    const { durations: d, ...counts } = this.#summary;
    this.#logger.log(
      `Shutdown summary: completed=${counts.completed} rejected=${counts.rejected} abandoned=${counts.abandoned}${counts.forced ? ' forced=true' : ''} readinessDelay=${d.readinessDelayMs}ms drain=${d.drainMs}ms abandon=${d.abandonMs}ms total=${d.totalMs}ms`,
    );
    this.#emit({ type: 'summary', summary: this.#summary });
  }

  /**
   * Resolves when nothing is in flight and every connection has closed. A request may still
   * arrive on an open connection while the drain waits for it to close: then it waits for that
   * request too.
   */
  async #settled(): Promise<void> {
    for (;;) {
      await this.registry.whenIdle();
      const gate = this.#gate;
      if (!gate) return;
      if (gate.openConnections > 0 && this.#options.idleConnections === 'expire') {
        this.#logger.log(
          `Shutdown: nothing in flight; waiting for ${gate.openConnections} idle keep-alive connections to close (within ${gate.idleExpiryMs} ms of their last response).`,
        );
      }
      await gate.whenClosed();
      if (this.registry.size === 0) return;
    }
  }

  #abandon(): string[] {
    const reason = this.#forced ? 'a second signal' : 'the drain deadline';
    if (this.registry.size === 0) {
      // Only idle keep-alive connections were left, their expiry not yet come.
      this.#logger.warn(
        `Shutdown: ${reason} ended the drain with nothing in flight and ${this.#gate?.openConnections ?? 0} idle connections open; closing them.`,
      );
      return [];
    }
    const snapshots = this.registry.list();
    const ids = this.registry.abandon();
    this.#logger.warn(
      `Shutdown: ${reason} ended the drain with ${ids.length} in flight; stopping their upstream calls.`,
    );
    for (const snapshot of snapshots) {
      this.#logger.warn(
        `Shutdown: abandoned ${snapshot.kind} ${snapshot.id}${snapshot.route ? ` (${snapshot.route})` : ''}, ${snapshot.state}, ${Math.round(snapshot.ageMs)} ms old.`,
      );
    }
    return ids;
  }

  #enter(phase: ShutdownPhase): void {
    this.#phase = phase;
    this.#emit({ type: 'phase', phase, inFlight: this.registry.size });
  }

  #emit(event: ShutdownEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.error(`A shutdown event listener threw: ${String(error)}`);
      }
    }
  }

  /** Waits `ms`, or less if a second signal cuts the shutdown short (or `#wakeAll` is called). */
  #sleep(ms: number): Promise<void> {
    if (this.#forced || ms === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#clock.clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = this.#clock.setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }

  /** Ends every pending sleep now, releasing its timer. */
  #wakeAll(): void {
    for (const wake of [...this.#sleepers]) wake();
  }

  #listen(): void {
    for (const signal of SIGNALS) process.on(signal, this.#onSignal);
  }

  #stopListening(): void {
    for (const signal of SIGNALS) process.off(signal, this.#onSignal);
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#phase === 'closing') {
      this.#logger.warn(`Shutdown: ${signal} while the shutdown hooks run; exiting now.`);
      process.exit(this.#options.abandonedExitCode);
    }
    if (this.#options.secondSignal === 'ignore') {
      this.#logger.warn(
        `Shutdown: ${signal} received during the drain; ignored (secondSignal: 'ignore').`,
      );
      return;
    }
    if (this.#forced) return;
    this.#logger.warn(`Shutdown: ${signal} received during the drain; ending the drain now.`);
    this.#forced = true;
    this.#wakeAll();
  };

  /** Idle connections that could outlive the deadline would be destroyed under their clients. */
  #warnIfIdleConnectionsOutlastDrain(gate: HttpServerGate): void {
    const { readinessDelayMs, drainTimeoutMs, idleConnections } = this.#options;
    if (idleConnections !== 'expire' || gate.idleExpiryMs <= readinessDelayMs + drainTimeoutMs) {
      return;
    }
    this.#logger.warn(
      `shutdown: an idle keep-alive connection lives ${gate.idleExpiryMs} ms (shutdown.keepAliveTimeoutMs + Node's 1 s), longer than readinessDelayMs + drainTimeoutMs (${readinessDelayMs + drainTimeoutMs} ms): one still open at the deadline is destroyed while its client may be sending on it. Lower shutdown.keepAliveTimeoutMs or raise the drain.`,
    );
  }

  #warnIfOverGracePeriod(): void {
    const { terminationGracePeriodMs, readinessDelayMs, drainTimeoutMs, abandonGraceMs } =
      this.#options;
    if (terminationGracePeriodMs === undefined) return;
    const budget = readinessDelayMs + drainTimeoutMs + abandonGraceMs;
    if (budget > terminationGracePeriodMs) {
      this.#logger.warn(
        `shutdown: readinessDelayMs + drainTimeoutMs + abandonGraceMs is ${budget} ms, above terminationGracePeriodMs (${terminationGracePeriodMs} ms): the orchestrator would kill the process mid-drain. Lower the drain or raise the grace period.`,
      );
    }
  }
}
