import type { ResolvedInferenceOptions } from '../options/resolved-options.interface.js';

/**
 * The module's models: logical names (`chat`) mapped to each provider's own name (`gpt-4.1` on
 * legacy, `deepseek-v3.2` on next), plus every concrete name the configuration mentions.
 */
export class ModelCatalog {
  readonly #logical: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly #known: ReadonlySet<string>;

  constructor(options: Pick<ResolvedInferenceOptions, 'models' | 'providers'>) {
    this.#logical = options.models;
    const known = new Set<string>(options.models.keys());
    for (const mapping of options.models.values())
      for (const name of mapping.values()) known.add(name);
    for (const provider of options.providers.values()) {
      if (provider.defaultModel) known.add(provider.defaultModel);
      for (const name of provider.prices.keys()) known.add(name);
    }
    this.#known = known;
  }

  /** Whether a decorator may name this model. */
  knows(model: string): boolean {
    return this.#known.has(model);
  }

  get names(): string[] {
    return [...this.#known].toSorted();
  }

  /**
   * The provider's own name for `model`: the mapping of a logical model, or the name itself.
   * Undefined when a logical model has no mapping for that provider.
   */
  concrete(model: string, provider: string): string | undefined {
    const mapping = this.#logical.get(model);
    return mapping ? mapping.get(provider) : model;
  }
}
