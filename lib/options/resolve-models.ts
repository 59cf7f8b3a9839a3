import type { ModelPrice } from './inference-options.interface.js';
import { OptionMessages as M } from './option.messages.js';
import { checkKeys, isDict, type Problems } from './option-checks.js';

/** `models`: logical name → provider → that provider's model name. */
export function resolveModels(
  value: unknown,
  providerNames: readonly string[],
  problems: Problems,
): Map<string, Map<string, string>> {
  const models = new Map<string, Map<string, string>>();
  if (value === undefined) return models;
  if (!isDict(value)) {
    problems.push(M.notAnObject('models'));
    return models;
  }
  for (const [logical, mapping] of Object.entries(value)) {
    const path = `models.${logical}`;
    if (logical.trim() === '') problems.push(M.badModelName('models'));
    if (!isDict(mapping)) {
      problems.push(M.notAnObject(path));
      continue;
    }
    checkKeys(mapping, path, providerNames, problems);
    const names = new Map<string, string>();
    for (const [provider, name] of Object.entries(mapping)) {
      if (typeof name !== 'string' || name.trim() === '')
        problems.push(M.badModelName(`${path}.${provider}`));
      else if (providerNames.includes(provider)) names.set(provider, name.trim());
    }
    models.set(logical, names);
  }
  return models;
}

/**
 * `equivalentModels`: groups of concrete names that are the same model on different providers,
 * such as `[{ legacy: 'gpt-4.1', next: 'deepseek-v3.2' }]`. A name belongs to one group at most,
 * and is not a logical model (those are mapped by `models`).
 */
export function resolveEquivalentModels(
  value: unknown,
  providerNames: readonly string[],
  models: ReadonlyMap<string, unknown>,
  problems: Problems,
): Map<string, string>[] {
  const path = 'equivalentModels';
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push(M.notAGroupList(path));
    return [];
  }
  const groups: Map<string, string>[] = [];
  const seen = new Map<string, string>();
  for (const [index, raw] of value.entries()) {
    const at = `${path}[${index}]`;
    if (!isDict(raw)) {
      problems.push(M.notAGroupList(at));
      continue;
    }
    checkKeys(raw, at, providerNames, problems);
    const group = new Map<string, string>();
    for (const [provider, name] of Object.entries(raw)) {
      const field = `${at}.${provider}`;
      if (!providerNames.includes(provider)) continue;
      if (typeof name !== 'string' || name.trim() === '') {
        problems.push(M.badModelName(field));
        continue;
      }
      const model = name.trim();
      if (models.has(model)) {
        problems.push(M.equivalentIsLogical(field, model));
        continue;
      }
      const earlier = seen.get(model);
      if (earlier !== undefined && !earlier.startsWith(`${at}.`)) {
        problems.push(M.equivalentTwice(field, model, earlier));
        continue;
      }
      seen.set(model, field);
      group.set(provider, model);
    }
    if (Object.keys(raw).length < 2) problems.push(M.equivalentAlone(at));
    groups.push(group);
  }
  return groups;
}

/** Every logical model must have a name on both sides of a rollout. */
export function checkModelsCoverRollout(
  models: ReadonlyMap<string, ReadonlyMap<string, string>>,
  sides: readonly string[],
  problems: Problems,
): void {
  for (const [logical, mapping] of models) {
    for (const side of sides) {
      if (!mapping.has(side)) problems.push(M.unmappedForRollout(`models.${logical}`, side));
    }
  }
}

/** `providers.<name>.prices`: dollars per million tokens by model name. */
export function resolvePrices(
  value: unknown,
  path: string,
  problems: Problems,
): Map<string, Required<ModelPrice>> {
  const prices = new Map<string, Required<ModelPrice>>();
  if (value === undefined) return prices;
  if (!isDict(value)) {
    problems.push(M.notAnObject(path));
    return prices;
  }
  for (const [model, price] of Object.entries(value)) {
    const at = `${path}.${model}`;
    if (!isDict(price)) {
      problems.push(M.notAnObject(at));
      continue;
    }
    checkKeys(price, at, ['input', 'cachedInput', 'output'], problems);
    const amount = (field: 'input' | 'cachedInput' | 'output', fallback?: number) => {
      const given = price[field] ?? fallback;
      if (typeof given !== 'number' || !Number.isFinite(given) || given < 0) {
        problems.push(M.badPrice(`${at}.${field}`, given));
        return undefined;
      }
      return given;
    };
    const input = amount('input');
    const output = amount('output');
    const cachedInput = amount('cachedInput', input ?? 0);
    if (input !== undefined && output !== undefined && cachedInput !== undefined) {
      prices.set(model, { input, cachedInput, output });
    }
  }
  return prices;
}
