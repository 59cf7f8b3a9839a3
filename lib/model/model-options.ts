import {
  checkKnown,
  INVALID,
  isDict,
  OptionWords as W,
  type At,
  type Rule,
} from '../rules/index.js';

const BAD_NAME = 'must be a non-empty model name.';

/** A model name, trimmed. */
const modelName = (value: unknown, at: At): string | typeof INVALID =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : at.fail(BAD_NAME);

/**
 * `models`: logical name → provider → that provider's model name. Every logical model has a name
 * on both sides of a rollout (`rolloutSides`).
 */
export function modelsRule(
  providers: readonly string[],
  rolloutSides: readonly string[],
): Rule<Map<string, Map<string, string>>> {
  return (value, at) => {
    const models = new Map<string, Map<string, string>>();
    if (value === undefined) return models;
    if (!isDict(value)) return at.fail(W.notAnObject);
    const before = at.issues.length;
    for (const [logical, mapping] of Object.entries(value)) {
      const where = at.child(logical);
      if (logical.trim() === '') at.fail(BAD_NAME);
      if (!isDict(mapping)) {
        where.fail(W.notAnObject);
        continue;
      }
      checkKnown(mapping, providers, where);
      const names = new Map<string, string>();
      for (const [provider, name] of Object.entries(mapping)) {
        const resolved = modelName(name, where.child(provider));
        if (resolved !== INVALID && providers.includes(provider)) names.set(provider, resolved);
      }
      for (const side of rolloutSides) {
        if (names.has(side) || mapping[side] !== undefined) continue;
        where.fail(
          `has no model name for provider '${side}', which the canary rollout sends calls to. Add ${where.name}.${side}.`,
        );
      }
      models.set(logical, names);
    }
    return at.issues.length > before ? INVALID : models;
  };
}

const NOT_GROUPS =
  "must be a list of groups of equivalent models, such as [{ legacy: 'gpt-4.1', next: 'deepseek-v3.2' }]: each group maps provider names to that provider's name for the same model.";

/**
 * `equivalentModels`: groups of concrete names that are the same model on different providers,
 * such as `[{ legacy: 'gpt-4.1', next: 'deepseek-v3.2' }]`. A name belongs to one group at most,
 * and is not a logical model (those are mapped by `models`).
 */
export function equivalentModelsRule(
  providers: readonly string[],
  logicalModels: readonly string[],
): Rule<Map<string, string>[]> {
  return (value, at) => {
    if (value === undefined) return [];
    if (!Array.isArray(value)) return at.fail(NOT_GROUPS);
    const before = at.issues.length;
    const groups: Map<string, string>[] = [];
    const seen = new Map<string, string>();
    for (const [index, given] of value.entries()) {
      const where = at.child(index);
      if (!isDict(given)) {
        where.fail(NOT_GROUPS);
        continue;
      }
      checkKnown(given, providers, where);
      const group = new Map<string, string>();
      for (const [provider, name] of Object.entries(given)) {
        if (!providers.includes(provider)) continue;
        const field = where.child(provider);
        const model = modelName(name, field);
        if (model === INVALID) continue;
        const earlier = seen.get(model);
        if (logicalModels.includes(model)) {
          field.fail(
            `is '${model}', a logical model of models. Name concrete models here; models.${model} already maps it to each provider.`,
          );
        } else if (earlier !== undefined && !earlier.startsWith(`${where.name}.`)) {
          field.fail(
            `is '${model}', which ${earlier} already names. A model has one group of equivalents: merge the two groups.`,
          );
        } else {
          seen.set(model, field.name);
          group.set(provider, model);
        }
      }
      if (Object.keys(given).length < 2) {
        where.fail(
          "names fewer than two providers. A group says which model each provider serves for the same thing; give at least two, such as { legacy: 'gpt-4.1', next: 'deepseek-v3.2' }.",
        );
      }
      groups.push(group);
    }
    return at.issues.length > before ? INVALID : groups;
  };
}
