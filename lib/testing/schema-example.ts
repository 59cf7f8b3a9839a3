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
 * - `number` / `integer`: `minimum` (or just above `exclusiveMinimum`), else 1, at most `maximum`;
 * - `boolean`: true; `null`: null;
 * - `array`: `prefixItems` each once, else `minItems` (at least 1, at most `maxItems`) copies of
 *   `items`' example.
 *
 * Anything else (an unknown type, an unresolvable `$ref`, a schema nested deeper than 16 levels,
 * as a recursive one would be) is null.
 */
export function schemaExample(schema: unknown): unknown {
  return exampleOf(schema, schema, 0);
}

const MAX_DEPTH = 16;

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

function exampleOf(schema: unknown, root: unknown, depth: number): unknown {
  if (!isSchema(schema) || depth > MAX_DEPTH) return null;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (typeof schema.$ref === 'string') {
    return exampleOf(resolve(schema.$ref, root), root, depth + 1);
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0) {
      return exampleOf(firstNotNull(branches, root), root, depth + 1);
    }
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const parts = schema.allOf.map((part) => exampleOf(part, root, depth + 1));
    if (parts.every(isSchema)) return Object.assign({}, ...parts) as unknown;
    return parts[0];
  }
  switch (typeOf(schema)) {
    case 'object':
      return objectOf(schema, root, depth);
    case 'array':
      return arrayOf(schema, root, depth);
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

function objectOf(schema: Schema, root: unknown, depth: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const properties = isSchema(schema.properties) ? schema.properties : {};
  for (const [name, property] of Object.entries(properties)) {
    result[name] = exampleOf(property, root, depth + 1);
  }
  if (Array.isArray(schema.required)) {
    for (const name of schema.required) {
      if (typeof name === 'string' && !(name in result)) result[name] = null;
    }
  }
  return result;
}

function arrayOf(schema: Schema, root: unknown, depth: number): unknown[] {
  if (Array.isArray(schema.prefixItems)) {
    return schema.prefixItems.map((item) => exampleOf(item, root, depth + 1));
  }
  const min = typeof schema.minItems === 'number' ? Math.floor(schema.minItems) : 1;
  const max = typeof schema.maxItems === 'number' ? Math.floor(schema.maxItems) : Infinity;
  const count = Math.min(Math.max(1, min), max, 100);
  // Tuple-style `items: [a, b]` (draft 2019 and earlier): each once.
  if (Array.isArray(schema.items)) {
    return schema.items.map((item) => exampleOf(item, root, depth + 1));
  }
  return Array.from({ length: Math.max(0, count) }, () => exampleOf(schema.items, root, depth + 1));
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

function numberOf(schema: Schema, integer: boolean): number {
  let value = 1;
  if (typeof schema.minimum === 'number') value = schema.minimum;
  else if (typeof schema.exclusiveMinimum === 'number') {
    value = schema.exclusiveMinimum + (integer ? 1 : 0.5);
  }
  if (typeof schema.maximum === 'number' && value > schema.maximum) value = schema.maximum;
  if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) {
    value = schema.exclusiveMaximum - (integer ? 1 : 0.5);
  }
  return integer ? Math.ceil(value) : value;
}
