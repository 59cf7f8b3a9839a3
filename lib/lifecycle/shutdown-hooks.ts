import {
  Logger,
  ShutdownSignal,
  type INestApplication,
  type INestApplicationContext,
} from '@nestjs/common';
import { INFERENCE_LOGGER_CONTEXT } from '../inference.constants.js';
import { ShutdownCoordinator, awaitsBeforeClose } from './shutdown.coordinator.js';

/** What `app.enableShutdownHooks(signals, options)` takes as options (Nest 11 and 12). */
export interface InferenceShutdownHooksOptions {
  /** End with `process.exit(0)` after a clean shutdown instead of re-raising the signal. */
  useProcessExit?: boolean;
}

/**
 * `app.enableShutdownHooks()` for Nest 11 and 12 alike: call it instead, before `app.listen()`.
 *
 * On Nest 12 it is `app.enableShutdownHooks(signals, options)`: Nest awaits the HTTP adapter's
 * `beforeClose()`, which the module hooks, before any of the app's own hooks. Nest 11's adapters
 * have no `beforeClose()`, so on a signal this runs the module's drain first, then `app.close()`
 * (the app's `onModuleDestroy`, `beforeApplicationShutdown`, `onApplicationShutdown` hooks), then
 * ends the process the way Nest does: the signal re-raised (or `process.exit(0)` with
 * `useProcessExit`), or `shutdown.abandonedExitCode` (75) when the drain abandoned requests. A
 * second signal ends the drain at once; hooks run exactly once. `app.close()` (a test's, or the
 * app's own) drains first too, and closes once.
 */
export function enableInferenceShutdownHooks<T extends INestApplicationContext>(
  app: T,
  signals: (ShutdownSignal | string)[] = [],
  options: InferenceShutdownHooksOptions = {},
): T {
  const coordinator = coordinatorOf(app);
  if (!coordinator || awaitsBeforeClose(httpAdapterOf(app))) {
    // Typed by hand: in Nest 11.0's types enableShutdownHooks() takes no options.
    const enable = app.enableShutdownHooks as (signals: string[], options: object) => T;
    return enable.call(app, signals, options);
  }
  coordinator.signalsHandledBeforeClose();
  const listened = unique(signals.length > 0 ? signals : Object.values(ShutdownSignal));
  // app.close() drains first too (tests, the app's own signal handling), and runs once.
  const close = ownMethod(app, 'close') as (signal?: string) => Promise<void>;
  let closing: Promise<void> | undefined;
  const closeAfterDrain = (signal?: string): Promise<void> =>
    (closing ??= (async () => {
      try {
        await coordinator.drain();
        await close(signal);
      } finally {
        for (const name of listened) process.off(name, onSignal);
      }
    })());
  // Defined, not assigned: NestFactory's app is a Proxy whose `set` trap stores nothing.
  Object.defineProperty(app, 'close', {
    value: closeAfterDrain,
    configurable: true,
    writable: true,
  });
  let received = false;
  const onSignal = async (signal: NodeJS.Signals): Promise<void> => {
    // A later signal is the coordinator's: it ends the drain, or the process while hooks run.
    if (received) return;
    received = true;
    try {
      // Nest's close(signal) passes the signal to beforeApplicationShutdown/onApplicationShutdown.
      await closeAfterDrain(signal);
      const code = coordinator.exitCode;
      if (code !== undefined) process.exit(code);
      if (options.useProcessExit) process.exit(0);
      process.kill(process.pid, signal);
    } catch (error) {
      new Logger(INFERENCE_LOGGER_CONTEXT).error(
        `Error during shutdown: ${error instanceof Error ? error.message : String(error)}`,
        error instanceof Error ? error.stack : undefined,
      );
      process.exit(1);
    }
  };
  for (const name of listened) process.on(name, onSignal);
  return app;
}

function coordinatorOf(app: INestApplicationContext): ShutdownCoordinator | undefined {
  try {
    return app.get(ShutdownCoordinator, { strict: false });
  } catch {
    return undefined; // InferenceModule is not imported: nothing to drain.
  }
}

/**
 * The object's own method, bound to it. NestFactory's app is a Proxy whose `get` returns a wrapper
 * that looks the method up at each call, so `app.close` read before redefining it would call the
 * new one.
 */
function ownMethod(object: object, name: string): (...args: unknown[]) => unknown {
  for (let o: object | null = object; o; o = Object.getPrototypeOf(o) as object | null) {
    const method: unknown = Object.getOwnPropertyDescriptor(o, name)?.value;
    if (typeof method === 'function') return method.bind(object) as (...args: unknown[]) => unknown;
  }
  throw new TypeError(`The application has no ${name}() method.`);
}

function httpAdapterOf(app: INestApplicationContext): object | undefined {
  const getHttpAdapter = (app as Partial<INestApplication>).getHttpAdapter;
  return typeof getHttpAdapter === 'function' ? getHttpAdapter.call(app) : undefined;
}

function unique(signals: readonly string[]): NodeJS.Signals[] {
  return [...new Set(signals.map((signal) => signal.toString().toUpperCase().trim()))].filter(
    (signal): signal is NodeJS.Signals => signal.length > 0,
  );
}
