import type { ModelCatalog } from '../model/model-catalog.js';
import type { ModelSelection } from '../model/model-selection.js';
import type { ChatCompletionRequest } from '../client/chat.types.js';
import type { EmbeddingRequest } from '../client/embedding.types.js';
import type {
  ProviderClient,
  ResolvedChatRequest,
  ResolvedEmbeddingRequest,
} from '../client/provider.client.js';
import { requestError } from './call-options.js';

/** An embeddings request as sent to `client`: validated, its (logical) model mapped. */
export function resolveEmbeddingRequest(
  request: EmbeddingRequest,
  client: ProviderClient,
  requestId: string,
  catalog: ModelCatalog,
): ResolvedEmbeddingRequest {
  const invalid = requestError(client.name, requestId);
  if (typeof request !== 'object' || request === null) {
    throw invalid('The request must be an object with an input.');
  }
  const input: unknown = request.input;
  const usable =
    (typeof input === 'string' && input.length > 0) || (Array.isArray(input) && input.length > 0);
  if (!usable) {
    throw invalid(
      'The request needs an input: a non-empty string, or a non-empty array of strings or tokens.',
    );
  }
  if (typeof request.model !== 'string' || request.model.trim() === '') {
    throw invalid(
      'Name an embedding model in the request (model), such as "text-embedding-3-small".',
    );
  }
  const model = catalog.concrete(request.model, client.name);
  if (model === undefined) throw invalid(catalog.missing(request.model, client.name));
  return model === request.model ? (request as ResolvedEmbeddingRequest) : { ...request, model };
}

export function resolveRequest(
  request: ChatCompletionRequest,
  client: ProviderClient,
  requestId: string,
  catalog: ModelCatalog,
  selection: ModelSelection | undefined,
): ResolvedChatRequest {
  const invalid = requestError(client.name, requestId);
  if (typeof request !== 'object' || request === null) {
    throw invalid('The request must be an object with a messages array.');
  }
  if (!Array.isArray(request.messages) || request.messages.length === 0) {
    throw invalid('The request needs a non-empty messages array.');
  }
  if (
    request.model !== undefined &&
    (typeof request.model !== 'string' || request.model.trim() === '')
  ) {
    // Named, but blank: not the same as naming none, and not the provider's configuration at fault.
    throw invalid(
      "The request names no model (model is empty). Name one, or leave model out for the route's or the provider's default.",
    );
  }
  const named = request.model ?? selection?.model ?? client.options.defaultModel;
  if (typeof named !== 'string' || named.trim() === '') {
    throw invalid(
      `No model was named, and provider "${client.name}" has no defaultModel. Name one in the request or set providers.${client.name}.defaultModel.`,
    );
  }
  const model = catalog.concrete(named, client.name);
  if (model === undefined) throw invalid(catalog.missing(named, client.name));
  const temperature = request.temperature ?? selection?.temperature;
  const maxTokens = request.max_tokens ?? request.max_completion_tokens ?? selection?.maxTokens;
  const addsDefaults =
    (temperature !== undefined && request.temperature === undefined) ||
    (maxTokens !== undefined &&
      request.max_tokens === undefined &&
      request.max_completion_tokens === undefined);
  // A request that names its model is sent as it is: a copy costs about a microsecond to serialise.
  if (request.model === model && !addsDefaults) return request as ResolvedChatRequest;
  const resolved: ResolvedChatRequest = { ...request, model };
  if (request.temperature === undefined && temperature !== undefined)
    resolved.temperature = temperature;
  if (
    request.max_tokens === undefined &&
    request.max_completion_tokens === undefined &&
    maxTokens !== undefined
  ) {
    resolved.max_tokens = maxTokens;
  }
  return resolved;
}
