import type { LoggerService } from '@nestjs/common';
import { faultOf, InferenceError } from '../errors/index.js';

/** The call whose failure is logged. */
export interface FailedCall {
  operation: 'chat' | 'stream' | 'embeddings';
  provider: string;
  model: string;
  requestId: string;
  durationMs: number;
  /** Attempts made, when the caller knows better than the error (a stream its caller stopped). */
  attempts?: number;
  /** The provider the call goes on to, when it falls back. */
  fallback?: string;
}

/**
 * One line per failed call, once its retries are spent: a warning when the provider failed it,
 * else a debug line (`faultOf` decides): a call stopped on purpose (its client left; the drain
 * deadline came, which the drain logs itself) or refused for its own content (its client has the
 * answer, and any client could fill the log with them). The error's message is already free of
 * secrets and of the provider's unredacted text.
 */
export function logCallFailure(logger: LoggerService, call: FailedCall, error: unknown): void {
  const known = error instanceof InferenceError ? error : undefined;
  const code = known?.code ?? 'unexpected';
  const attempts = call.attempts ?? known?.attempts ?? 1;
  const message = error instanceof Error ? error.message : String(error);
  const line =
    `${call.operation} call to provider "${call.provider}" (model ${call.model}) ended in ${code} ` +
    `after ${attempts} attempt${attempts === 1 ? '' : 's'} and ${Math.round(call.durationMs)} ms: ${message}` +
    (call.fallback === undefined ? '' : `; falling back to "${call.fallback}"`) +
    ` [request ${call.requestId}]`;
  if (faultOf(error) === 'provider') logger.warn(line);
  else logger.debug?.(line);
}
