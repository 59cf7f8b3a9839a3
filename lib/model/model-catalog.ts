import type { ResolvedInferenceOptions } from '../options/resolved-options.interface.js';

/** A model callers may name, and the providers that serve it. */
export interface CatalogModel {
  /** The name a call or a route uses. */
  id: string;
  /** `logical`: a key of `models`, mapped to each provider's own name; `provider`: a provider's own name. */
  kind: 'logical' | 'provider';
  /**
   * Providers that serve it, in configuration order: those a logical model maps; for a provider's
   * own name, those whose `defaultModel`, `prices` or a logical mapping name it.
   */
  providers: readonly string[];
}

/**
 * The module's models: logical names (`chat`) mapped to each provider's own name (`gpt-4.1` on
 * legacy, `deepseek-v3.2` on next), plus every concrete name the configuration mentions.
 */
export class ModelCatalog {
  readonly #logical: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly #known: ReadonlySet<string>;
  readonly #list: readonly Readonly<CatalogModel>[];
  readonly #byId: ReadonlyMap<string, Readonly<CatalogModel>>;

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
    this.#list = listModels(options);
    this.#byId = new Map(this.#list.map((model) => [model.id, model]));
  }

  /** Every model callers may name, sorted by id: logical names first, then providers' own. */
  list(): readonly Readonly<CatalogModel>[] {
    return this.#list;
  }

  /** The entry for `id`, or undefined when the module does not know that model. */
  find(id: string): Readonly<CatalogModel> | undefined {
    return this.#byId.get(id);
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

function listModels(
  options: Pick<ResolvedInferenceOptions, 'models' | 'providers'>,
): Readonly<CatalogModel>[] {
  const logical = [...options.models].map(([id, mapping]) =>
    Object.freeze({
      id,
      kind: 'logical' as const,
      providers: [...options.providers.keys()].filter((provider) => mapping.has(provider)),
    }),
  );
  // A logical name that is also some provider's own name is listed once, as logical: that is how
  // a call naming it is resolved.
  const servedBy = new Map<string, Set<string>>();
  const add = (id: string, provider: string) => {
    if (options.models.has(id)) return;
    const providers = servedBy.get(id) ?? new Set<string>();
    servedBy.set(id, providers.add(provider));
  };
  for (const [provider, resolved] of options.providers) {
    if (resolved.defaultModel) add(resolved.defaultModel, provider);
    for (const id of resolved.prices.keys()) add(id, provider);
    for (const mapping of options.models.values()) {
      const id = mapping.get(provider);
      if (id !== undefined) add(id, provider);
    }
  }
  const concrete = [...servedBy].map(([id, providers]) =>
    Object.freeze({ id, kind: 'provider' as const, providers: [...providers] }),
  );
  const byId = (a: CatalogModel, b: CatalogModel) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return [...logical.toSorted(byId), ...concrete.toSorted(byId)];
}
