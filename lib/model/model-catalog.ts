import type { ResolvedProviderOptions } from '../client/provider-options.js';

/** What the catalog reads of the module's resolved options. */
export interface ModelCatalogOptions {
  /** Logical model → provider → the provider's model name. */
  models: ReadonlyMap<string, ReadonlyMap<string, string>>;
  providers: ReadonlyMap<string, ResolvedProviderOptions>;
  /** Groups of concrete names that are the same model on different providers: provider → name. */
  equivalentModels?: readonly ReadonlyMap<string, string>[];
}

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
 * legacy, `deepseek-v3.2` on next); concrete names declared equivalent across providers
 * (`equivalentModels`); and every concrete name the configuration mentions, by provider.
 */
export class ModelCatalog {
  readonly #logical: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** A concrete name → its group of equivalents (provider → that provider's name). */
  readonly #equivalents = new Map<string, ReadonlyMap<string, string>>();
  /** Provider → the names the configuration says it serves. */
  readonly #own = new Map<string, Set<string>>();
  readonly #known: ReadonlySet<string>;
  readonly #list: readonly Readonly<CatalogModel>[];
  readonly #byId: ReadonlyMap<string, Readonly<CatalogModel>>;

  constructor(options: ModelCatalogOptions) {
    this.#logical = options.models;
    const own = (provider: string, name: string) => {
      let names = this.#own.get(provider);
      if (!names) this.#own.set(provider, (names = new Set()));
      names.add(name);
    };
    for (const mapping of options.models.values()) {
      for (const [provider, name] of mapping) own(provider, name);
    }
    for (const group of options.equivalentModels ?? []) {
      for (const [provider, name] of group) {
        own(provider, name);
        this.#equivalents.set(name, group);
      }
    }
    for (const [provider, settings] of options.providers) {
      if (settings.defaultModel) own(provider, settings.defaultModel);
      for (const name of settings.prices.keys()) own(provider, name);
    }
    const known = new Set<string>(options.models.keys());
    for (const names of this.#own.values()) for (const name of names) known.add(name);
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
   * The provider's declared name for `model`: the mapping of a logical model, the equivalent in
   * `model`'s group, or `model` itself when the configuration says the provider serves it.
   * Undefined when nothing declares one.
   */
  equivalent(model: string, provider: string): string | undefined {
    const mapping = this.#logical.get(model);
    if (mapping) return mapping.get(provider);
    const group = this.#equivalents.get(model);
    if (group?.has(provider)) return group.get(provider);
    return this.#own.get(provider)?.has(model) ? model : undefined;
  }

  /**
   * The name to send `model` under to `provider`: its declared equivalent, or the name itself
   * when the configuration does not know it (a model it never mentions). Undefined when the
   * name is known to be another provider's and has no equivalent here: it is never sent under
   * a foreign name.
   */
  concrete(model: string, provider: string): string | undefined {
    const declared = this.equivalent(model, provider);
    if (declared !== undefined || this.#logical.has(model)) return declared;
    return this.#known.has(model) ? undefined : model;
  }

  /** Why `concrete(model, provider)` has no name, and how to give it one. */
  missing(model: string, provider: string): string {
    if (this.#logical.has(model)) {
      return `Model "${model}" has no name for provider "${provider}". Add models.${model}.${provider} to the module options.`;
    }
    return `Model "${model}" is another provider's and has no equivalent on provider "${provider}". Declare one in the module's equivalentModels, for example [{ ..., ${provider}: '<its model>' }].`;
  }
}

function listModels(
  options: Pick<ModelCatalogOptions, 'models' | 'providers'>,
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
