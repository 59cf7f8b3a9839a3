import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ShutdownCoordinator } from 'nestjs-inference';

/**
 * Writes a JSON line when a termination signal reaches the process, before Nest's own handler
 * runs (call it before `app.enableShutdownHooks()`): with the phase lines, it shows how long the
 * replica took from the signal to failing readiness, apart from how long the signal took to be
 * handled by a busy event loop.
 */
export function reportSignals(signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
  for (const signal of signals) {
    process.once(signal, () =>
      process.stdout.write(`${JSON.stringify({ event: 'signal', at: Date.now(), signal })}\n`),
    );
  }
}

/** Writes each shutdown phase and the final summary as JSON lines, for log pipelines and alerts. */
@Injectable()
export class ShutdownReport implements OnModuleInit {
  constructor(private readonly shutdown: ShutdownCoordinator) {}

  onModuleInit(): void {
    this.shutdown.subscribe((event) => {
      const line =
        event.type === 'phase'
          ? {
              event: 'shutdown-phase',
              at: Date.now(),
              phase: event.phase,
              inFlight: event.inFlight,
            }
          : { event: 'shutdown-summary', at: Date.now(), ...event.summary };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    });
  }
}
