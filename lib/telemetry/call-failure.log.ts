import type { LoggerService } from '@nestjs/common';
import { InferenceError } from '../errors/index.js';

/** The call whose failure is logged. */
export interface FailedCall {
  operation: 'chat' | 'stream' | 'embeddings';
  provider: string;
  model: string;
  requestId: string;
  durationMs: number;
  /** The provider the call goes on to, when it falls back. */
  fallback?: string;
}

/** Codes that say the call was stopped on purpose: the caller left, or the drain ended it. */
const STOPPED = new Set(['aborted', 'shutting_down']);

/**
 * One line per failed call, once its retries are spent: a warning, or a debug line for a call
 * stopped on purpose (its client left; the drain deadline came, which the drain logs itself).
 * The error's message is already free of secrets and of the provider's unredacted text.
 */
export function logCallFailure(logger: LoggerService, call: FailedCall, error: unknown): void {
  const code = error instanceof InferenceError ? error.code : 'unexpected';
  const attempts = error instanceof InferenceError ? error.attempts : 1;
  const message = error instanceof Error ? error.message : String(error);
  const line =
    `${call.operation} call to provider "${call.provider}" (model ${call.model}) ended in ${code} ` +
    `after ${attempts} attempt${attempts === 1 ? '' : 's'} and ${Math.round(call.durationMs)} ms: ${message}` +
    (call.fallback === undefined ? '' : `; falling back to "${call.fallback}"`) +
    ` [request ${call.requestId}]`;
  if (STOPPED.has(code)) logger.debug?.(line);
  else logger.warn(line);
}
