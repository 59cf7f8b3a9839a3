import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { ModelCatalog, type CatalogModel } from 'nestjs-inference';

/** One entry of OpenAI's model list. */
export interface OpenAiModel {
  id: string;
  object: 'model';
  /** Unix seconds. The gateway knows no creation date for a model: it gives its own start. */
  created: number;
  /** `gateway` for a logical model; for a provider's own model, the providers that serve it. */
  owned_by: string;
}

/**
 * OpenAI's models endpoints, so `client.models.list()` and `retrieve(id)` work unchanged. The
 * list is what the gateway serves: the logical models (`chat`, `recommend`, `embed`) and each
 * provider's own model names (default models, priced models, those the logical ones map to).
 */
@Controller('v1')
export class ModelsController {
  readonly #created = Math.floor(Date.now() / 1000);

  constructor(private readonly catalog: ModelCatalog) {}

  @Get('models')
  list(): { object: 'list'; data: OpenAiModel[] } {
    return { object: 'list', data: this.catalog.list().map((model) => this.#entry(model)) };
  }

  @Get('models/:id')
  retrieve(@Param('id') id: string): OpenAiModel {
    const model = this.catalog.find(id);
    if (!model) {
      throw new NotFoundException({
        error: {
          message: `The model '${id}' does not exist or you do not have access to it.`,
          type: 'invalid_request_error',
          code: 'model_not_found',
          param: 'model',
        },
      });
    }
    return this.#entry(model);
  }

  #entry(model: Readonly<CatalogModel>): OpenAiModel {
    return {
      id: model.id,
      object: 'model',
      created: this.#created,
      owned_by: model.kind === 'logical' ? 'gateway' : model.providers.join(','),
    };
  }
}
