/**
 * A small, deterministic example value for a JSON Schema, as the simulated provider answers
 * `response_format: json_schema` and synthesizes tool-call arguments:
 *
 * - `const`, then `enum` (its first value), at any level;
 * - `$ref` to the root (`#`) or into it (`#/$defs/…`, `#/definitions/…`, any JSON pointer);
 * - `anyOf` / `oneOf`: the first branch; `allOf`: the branches' objects merged;
 * - a `type` array (`["string", "null"]`): the first type that is not `null`;
 * - `object`: every property in `properties`, and every `required` name (null when the
 *   schema says nothing of it);
 * - `string`: a plausible value for `format` `date-time`, `date`, `time`, `email`, `uri`/`url`,
 *   `uuid`, `hostname`, `ipv4`, else `"text"`, padded to `minLength`, cut to `maxLength`;
 * - `number` / `integer`: 1, or the bound nearest to it (`minimum`, `exclusiveMinimum`,
 *   `maximum`, `exclusiveMaximum`; an integer stays inside fractional bounds);
 * - `boolean`: true; `null`: null;
 * - `array`: `prefixItems` each once, else `minItems` (at least 1, at most `maxItems` and 100)
 *   examples of `items`; once a document has 10,000 values, further arrays get one item.
 *
 * Anything else (an unknown type, an unresolvable `$ref`, a schema nested deeper than 16 levels,
 * as a recursive one would be) is null.
 */
export function schemaExample(schema: unknown): unknown {
  return exampleOf(schema, { root: schema, values: 0 }, 0);
}

const MAX_DEPTH = 16;
/** Values in one document past which arrays stop repeating (nested `minItems` multiply). */
const MAX_VALUES = 10_000;

/** The schema being exemplified, and how many values the document has so far. */
interface Walk {
  root: unknown;
  values: number;
}

const FORMATS: Readonly<Record<string, string>> = {
  'date-time': '2024-01-01T00:00:00Z',
  date: '2024-01-01',
  time: '00:00:00Z',
  email: 'user@example.com',
  uri: 'https://example.com/',
  url: 'https://example.com/',
  'uri-reference': 'https://example.com/',
  uuid: '00000000-0000-4000-8000-000000000000',
  hostname: 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
};

type Schema = Record<string, unknown>;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function exampleOf(schema: unknown, walk: Walk, depth: number): unknown {
  if (!isSchema(schema) || depth > MAX_DEPTH) return null;
  walk.values++;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (typeof schema.$ref === 'string') {
    return exampleOf(resolve(schema.$ref, walk.root), walk, depth + 1);
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0) {
      return exampleOf(firstNotNull(branches, walk.root), walk, depth + 1);
    }
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const parts = schema.allOf.map((part) => exampleOf(part, walk, depth + 1));
    if (parts.every(isSchema)) return Object.assign({}, ...parts) as unknown;
    return parts[0];
  }
  switch (typeOf(schema)) {
    case 'object':
      return objectOf(schema, walk, depth);
    case 'array':
      return arrayOf(schema, walk, depth);
    case 'string':
      return stringOf(schema);
    case 'integer':
      return numberOf(schema, true);
    case 'number':
      return numberOf(schema, false);
    case 'boolean':
      return true;
    default:
      return null;
  }
}

/** The schema's type: the first non-null one of a type array, else inferred from its keywords. */
function typeOf(schema: Schema): string | undefined {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) {
    const first = type.find((t) => t !== 'null');
    return typeof first === 'string' ? first : undefined;
  }
  if (isSchema(schema.properties) || Array.isArray(schema.required)) return 'object';
  if ('items' in schema || Array.isArray(schema.prefixItems)) return 'array';
  return undefined;
}

/** The first branch that is not just `{type: 'null'}` (`anyOf: [{$ref}, {type: 'null'}]`). */
function firstNotNull(branches: unknown[], root: unknown): unknown {
  const isNull = (branch: unknown) => {
    const target =
      isSchema(branch) && typeof branch.$ref === 'string' ? resolve(branch.$ref, root) : branch;
    return isSchema(target) && target.type === 'null';
  };
  return branches.find((branch) => !isNull(branch)) ?? branches[0];
}

function resolve(ref: string, root: unknown): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isSchema(node) || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

function objectOf(schema: Schema, walk: Walk, depth: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const properties = isSchema(schema.properties) ? schema.properties : {};
  for (const [name, property] of Object.entries(properties)) {
    result[name] = exampleOf(property, walk, depth + 1);
  }
  if (Array.isArray(schema.required)) {
    for (const name of schema.required) {
      if (typeof name === 'string' && !(name in result)) result[name] = null;
    }
  }
  return result;
}

function arrayOf(schema: Schema, walk: Walk, depth: number): unknown[] {
  const each = (items: unknown[]) => items.map((item) => exampleOf(item, walk, depth + 1));
  if (Array.isArray(schema.prefixItems)) return each(schema.prefixItems);
  // Tuple-style `items: [a, b]` (draft 2019 and earlier): each once.
  if (Array.isArray(schema.items)) return each(schema.items);
  const min = typeof schema.minItems === 'number' ? Math.floor(schema.minItems) : 1;
  const max = typeof schema.maxItems === 'number' ? Math.floor(schema.maxItems) : Infinity;
  const count = Math.max(0, Math.min(Math.max(1, min), max, 100));
  const result: unknown[] = [];
  while (result.length < count && (result.length === 0 || walk.values < MAX_VALUES)) {
    result.push(exampleOf(schema.items, walk, depth + 1));
  }
  return result;
}

function stringOf(schema: Schema): string {
  let text = (typeof schema.format === 'string' ? FORMATS[schema.format] : undefined) ?? 'text';
  if (typeof schema.minLength === 'number' && text.length < schema.minLength) {
    text = text.padEnd(Math.min(schema.minLength, 10_000), 'x');
  }
  if (typeof schema.maxLength === 'number' && text.length > schema.maxLength) {
    text = text.slice(0, Math.max(0, schema.maxLength));
  }
  return text;
}

/** 1, or the bound nearest to it: `minimum` above it, `maximum` below it (integers stay inside). */
function numberOf(schema: Schema, integer: boolean): number {
  const step = integer ? 1 : 0.5;
  let low = -Infinity;
  let high = Infinity;
  if (typeof schema.minimum === 'number') low = schema.minimum;
  if (typeof schema.exclusiveMinimum === 'number') {
    const above = integer
      ? Math.floor(schema.exclusiveMinimum) + 1
      : schema.exclusiveMinimum + step;
    low = Math.max(low, above);
  }
  if (typeof schema.maximum === 'number') high = schema.maximum;
  if (typeof schema.exclusiveMaximum === 'number') {
    const below = integer ? Math.ceil(schema.exclusiveMaximum) - 1 : schema.exclusiveMaximum - step;
    high = Math.min(high, below);
  }
  if (integer) {
    low = Math.ceil(low);
    high = Math.floor(high);
  }
  return Math.min(Math.max(1, low), high);
}
