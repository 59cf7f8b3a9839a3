import type { LoggerService } from '@nestjs/common';
import { InferenceError, type Fault } from '../errors/index.js';

/** The call whose failure is logged: its end record. */
export interface FailedCall {
  readonly operation: 'chat' | 'stream' | 'embeddings';
  readonly provider: string;
  readonly model: string;
  readonly requestId: string;
  readonly durationMs: number;
  readonly attempts: number;
  readonly error?: unknown;
  /** Whose fault, with the caller's own budgets (`faultOf`). */
  readonly fault?: Fault;
  /** The provider the call goes on to, when it falls back. */
  readonly fallback?: string;
}

/**
 * One line per failed call, once its retries are spent: a warning when the provider failed it,
 * else a debug line (`faultOf`, with the caller's budgets, decides): a call stopped on purpose (its client left; the drain
 * deadline came, which the drain logs itself) or refused for its own content (its client has the
 * answer, and any client could fill the log with them). The error's message is already free of
 * secrets and of the provider's unredacted text.
 */
export function logCallFailure(logger: LoggerService, call: FailedCall): void {
  const error = call.error;
  const code = error instanceof InferenceError ? error.code : 'unexpected';
  const attempts = call.attempts;
  const message = error instanceof Error ? error.message : String(error);
  const line =
    `${call.operation} call to provider "${call.provider}" (model ${call.model}) ended in ${code} ` +
    `after ${attempts} attempt${attempts === 1 ? '' : 's'} and ${Math.round(call.durationMs)} ms: ${message}` +
    (call.fallback === undefined ? '' : `; falling back to "${call.fallback}"`) +
    ` [request ${call.requestId}]`;
  if (call.fault === 'provider') logger.warn(line);
  else logger.debug?.(line);
}
