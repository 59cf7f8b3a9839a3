import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ShutdownCoordinator } from 'nestjs-inference';

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
