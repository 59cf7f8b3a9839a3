import { InferenceRequestError } from '../errors/index.js';
import { At, checkBudgets, headerProblem, type Issue } from '../rules/index.js';
import type { ModelSelection } from '../model/model-selection.js';
import type { ChatCallOptions } from './call-options.interface.js';

/** The route's pinned provider and timeouts (its `@InferenceModel`), unless the call gives its own. */
export function withRouteDefaults<T extends ChatCallOptions>(
  options: T,
  selection: ModelSelection | undefined,
): T {
  if (!selection || (selection.provider === undefined && selection.timeouts === undefined))
    return options;
  return {
    ...options,
    provider: options.provider ?? selection.provider,
    timeouts: options.timeouts ?? selection.timeouts,
  };
}

export /** Makes the caller's-mistake errors of one call: raised before anything is sent. */
function requestError(provider: string, requestId: string) {
  return (reason: string) =>
    new InferenceRequestError(reason, { provider, requestId, phase: 'request', retryable: false });
}

/**
 * The call's own options, checked once before anything is sent: a mistake in them is the
 * caller's (`InferenceRequestError`), never a provider fault.
 */
export function checkCallOptions(
  options: ChatCallOptions,
  requestId: string,
  provider: string,
): void {
  const invalid = requestError(provider, requestId);
  if (options.requestId !== undefined) {
    if (
      typeof options.requestId !== 'string' ||
      options.requestId === '' ||
      headerProblem('x-request-id', options.requestId)
    ) {
      throw invalid(
        'Call option requestId must be a non-empty string without line breaks or control characters.',
      );
    }
  }
  for (const [name, value] of options.headers ? Object.entries(options.headers) : []) {
    const problem = headerProblem(name, value);
    if (problem) throw invalid(`Call option headers: ${problem}.`);
  }
  const issues: Issue[] = [];
  checkBudgets(options.timeouts, new At(issues, ['timeouts'], 'Call option '), 'call');
  if (issues[0]) throw invalid(issues[0].message);
  if (
    options.maxRetries !== undefined &&
    (!Number.isInteger(options.maxRetries) || options.maxRetries < 0)
  ) {
    throw invalid('Call option maxRetries must be an integer ≥ 0.');
  }
}
