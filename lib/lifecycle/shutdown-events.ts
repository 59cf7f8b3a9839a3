/** Where the app is in its shutdown sequence. */
export type ShutdownPhase =
  | 'serving' // normal operation
  | 'readiness-delay' // readiness fails, the app still serves normally
  | 'draining' // the listener is closed; waiting for in-flight requests
  | 'abandoning' // the drain deadline passed: streams get their terminal event, then sockets close
  | 'closing'; // the drain is over; the app's own hooks and Nest's teardown run

/** What happened during one shutdown, reported once at its end. */
export interface ShutdownSummary {
  /** Requests and calls that ended on their own after the shutdown began. */
  completed: number;
  /** Requests answered 503 and calls refused while draining. */
  rejected: number;
  /** Requests and calls given up at the drain deadline (or at a second signal). */
  abandoned: number;
  abandonedIds: string[];
  /** A second signal cut the shutdown short. */
  forced: boolean;
  /** Milliseconds spent in each phase, and in all. */
  durations: { readinessDelayMs: number; drainMs: number; abandonMs: number; totalMs: number };
}

export type ShutdownEvent =
  | { type: 'phase'; phase: ShutdownPhase; inFlight: number }
  | { type: 'summary'; summary: ShutdownSummary };
