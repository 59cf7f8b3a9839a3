import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../../lib/index.js';
import { resolveInferenceOptions } from '../../../lib/options/resolve-options.js';

const catalog = new ModelCatalog(
  resolveInferenceOptions({
    providers: {
      legacy: {
        baseUrl: 'https://legacy.example.com/v1',
        apiKey: 'sk-legacy',
        defaultModel: 'gpt-4.1',
        prices: { 'gpt-4.1': { input: 2, output: 8 }, 'gpt-4.1-mini': { input: 0.4, output: 1.6 } },
      },
      next: {
        baseUrl: 'https://next.example.com/v1',
        apiKey: 'sk-next',
        defaultModel: 'deepseek-v3.2',
      },
    },
    models: {
      recommend: { legacy: 'gpt-4.1-mini', next: 'deepseek-v3.2' },
      chat: { legacy: 'gpt-4.1', next: 'deepseek-v3.2' },
      // Named after a concrete model: callers get the mapping, so it is listed as logical.
      'gpt-4o': { legacy: 'gpt-4o-2024-08-06' },
    },
    defaultProvider: 'legacy',
  }),
);

describe('ModelCatalog.list() and find()', () => {
  it('lists logical models, then each provider’s own names, with the providers serving them', () => {
    expect(catalog.list()).toEqual([
      { id: 'chat', kind: 'logical', providers: ['legacy', 'next'] },
      { id: 'gpt-4o', kind: 'logical', providers: ['legacy'] },
      { id: 'recommend', kind: 'logical', providers: ['legacy', 'next'] },
      { id: 'deepseek-v3.2', kind: 'provider', providers: ['next'] },
      { id: 'gpt-4.1', kind: 'provider', providers: ['legacy'] },
      { id: 'gpt-4.1-mini', kind: 'provider', providers: ['legacy'] },
      { id: 'gpt-4o-2024-08-06', kind: 'provider', providers: ['legacy'] },
    ]);
  });

  it('lists exactly the names a decorator may use', () => {
    expect(catalog.list().map((model) => model.id)).toEqual(expect.arrayContaining(catalog.names));
    expect(catalog.list()).toHaveLength(catalog.names.length);
  });

  it('finds a model by id, and nothing for an unknown one', () => {
    expect(catalog.find('gpt-4.1-mini')).toEqual({
      id: 'gpt-4.1-mini',
      kind: 'provider',
      providers: ['legacy'],
    });
    expect(catalog.find('chat')?.kind).toBe('logical');
    expect(catalog.find('gpt-5')).toBeUndefined();
    expect(catalog.find('constructor')).toBeUndefined();
  });

  it('lists a name two providers share once, with both', () => {
    const shared = new ModelCatalog(
      resolveInferenceOptions({
        providers: {
          a: { baseUrl: 'https://a.example.com/v1', apiKey: 'sk-a', defaultModel: 'llama-3.3-70b' },
          b: {
            baseUrl: 'https://b.example.com/v1',
            apiKey: 'sk-b',
            prices: { 'llama-3.3-70b': { input: 0.6, output: 0.6 } },
          },
        },
        defaultProvider: 'a',
      }),
    );
    expect(shared.list()).toEqual([
      { id: 'llama-3.3-70b', kind: 'provider', providers: ['a', 'b'] },
    ]);
  });
});
