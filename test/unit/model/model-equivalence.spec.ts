import { describe, expect, it } from 'vitest';
import { InferenceOptionsError } from '../../../lib/index.js';
import { ModelCatalog } from '../../../lib/model/model-catalog.js';
import { resolveInferenceOptions } from '../../../lib/options/resolve-options.js';

const providers = {
  legacy: {
    baseUrl: 'https://legacy.example/v1',
    apiKey: 'sk-legacy',
    defaultModel: 'gpt-4.1',
    prices: { 'gpt-4.1-mini': { input: 0.4, output: 1.6 } },
  },
  next: { baseUrl: 'https://next.example/v1', apiKey: 'sk-next', defaultModel: 'deepseek-v3.2' },
};
const options = (extra: Record<string, unknown> = {}) =>
  resolveInferenceOptions({
    providers,
    defaultProvider: 'legacy',
    models: { chat: { legacy: 'gpt-4.1', next: 'deepseek-v3.2' } },
    equivalentModels: [{ legacy: 'gpt-4.1', next: 'deepseek-v3.2' }],
    ...extra,
  });

describe('model equivalence', () => {
  const catalog = new ModelCatalog(options());

  it('sends a concrete model to each provider under its own equivalent name', () => {
    expect(catalog.concrete('gpt-4.1', 'next')).toBe('deepseek-v3.2');
    expect(catalog.concrete('deepseek-v3.2', 'legacy')).toBe('gpt-4.1');
    expect(catalog.concrete('gpt-4.1', 'legacy')).toBe('gpt-4.1');
    expect(catalog.concrete('chat', 'next')).toBe('deepseek-v3.2');
  });

  it('never sends a provider another provider’s model when nothing declares an equivalent', () => {
    // gpt-4.1-mini is legacy's (it has a price there) and has no equivalent on next.
    expect(catalog.equivalent('gpt-4.1-mini', 'next')).toBeUndefined();
    expect(catalog.concrete('gpt-4.1-mini', 'next')).toBeUndefined();
    expect(catalog.missing('gpt-4.1-mini', 'next')).toMatch(
      /Model "gpt-4\.1-mini" is another provider's and has no equivalent on provider "next"\. Declare one in the module's equivalentModels/,
    );
    // A name the configuration never mentions is passed through, as before; but it is not a
    // declared equivalent, so the canary router will not send it to the canary.
    expect(catalog.concrete('llama-4', 'next')).toBe('llama-4');
    expect(catalog.equivalent('llama-4', 'next')).toBeUndefined();
  });

  it.each([
    [{ equivalentModels: { legacy: 'gpt-4.1' } }, /equivalentModels must be a list of groups/],
    [[{ legacy: 'gpt-4.1' }], /equivalentModels\[0\] names fewer than two providers/],
    [
      [{ legacy: 'gpt-4.1', nxt: 'deepseek-v3.2' }],
      /equivalentModels\[0\]\.nxt is not a known option\. Known options here: legacy, next/,
    ],
    [
      [{ legacy: 'gpt-4.1', next: '' }],
      /equivalentModels\[0\]\.next must be a non-empty model name/,
    ],
    [
      [
        { legacy: 'gpt-4.1', next: 'deepseek-v3.2' },
        { legacy: 'gpt-4.1-mini', next: 'deepseek-v3.2' },
      ],
      /equivalentModels\[1\]\.next is 'deepseek-v3\.2', which equivalentModels\[0\]\.next already names\. A model has one group of equivalents: merge the two groups/,
    ],
    [
      [{ legacy: 'chat', next: 'deepseek-v3.2' }],
      /equivalentModels\[0\]\.legacy is 'chat', a logical model of models/,
    ],
  ])('rejects bad equivalentModels at startup, naming the field (%#)', (value, message) => {
    const equivalentModels = Array.isArray(value) ? value : value.equivalentModels;
    expect(() => options({ equivalentModels })).toThrow(InferenceOptionsError);
    expect(() => options({ equivalentModels })).toThrow(message);
  });
});
