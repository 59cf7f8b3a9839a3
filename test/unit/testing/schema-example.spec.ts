import { describe, expect, it } from 'vitest';
import { schemaExample } from '../../../lib/testing/schema-example.js';

describe('schemaExample', () => {
  it('fills an object with every property, by type', () => {
    expect(
      schemaExample({
        type: 'object',
        properties: {
          name: { type: 'string' },
          age: { type: 'integer', minimum: 18 },
          score: { type: 'number' },
          active: { type: 'boolean' },
          nothing: { type: 'null' },
        },
        required: ['name', 'age', 'extra'],
      }),
    ).toEqual({ name: 'text', age: 18, score: 1, active: true, nothing: null, extra: null });
  });

  it('takes enum and const first, at any level', () => {
    expect(schemaExample({ enum: ['b', 'a'] })).toBe('b');
    expect(schemaExample({ type: 'string', const: 'fixed' })).toBe('fixed');
    expect(
      schemaExample({
        type: 'object',
        properties: { unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      }),
    ).toEqual({ unit: 'celsius' });
    expect(schemaExample({ type: 'integer', enum: [3, 5] })).toBe(3);
  });

  it('gives plausible strings for formats and honours lengths', () => {
    const at = schemaExample({ type: 'string', format: 'date-time' }) as string;
    expect(new Date(at).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(schemaExample({ type: 'string', format: 'email' })).toMatch(/^[^@\s]+@[^@\s]+\.\w+$/);
    expect(() => new URL(schemaExample({ type: 'string', format: 'uri' }) as string)).not.toThrow();
    expect(schemaExample({ type: 'string', minLength: 8 })).toHaveLength(8);
    expect(schemaExample({ type: 'string', maxLength: 2 })).toHaveLength(2);
  });

  it('respects numeric bounds', () => {
    expect(schemaExample({ type: 'number', minimum: 2.5 })).toBe(2.5);
    expect(schemaExample({ type: 'integer', minimum: 2.5 })).toBe(3);
    expect(schemaExample({ type: 'integer', exclusiveMinimum: 4 })).toBe(5);
    expect(schemaExample({ type: 'number', maximum: -3 })).toBe(-3);
  });

  it('picks 1, or the bound nearest to it, and keeps integers inside fractional bounds', () => {
    const safe = {
      type: 'integer',
      minimum: -Number.MAX_SAFE_INTEGER,
      maximum: Number.MAX_SAFE_INTEGER,
    };
    expect(schemaExample(safe)).toBe(1); // zod's z.number().int()
    expect(schemaExample({ type: 'integer', maximum: -3.5 })).toBe(-4);
    expect(schemaExample({ type: 'integer', exclusiveMinimum: 2.5 })).toBe(3);
    expect(schemaExample({ type: 'integer', exclusiveMaximum: 1 })).toBe(0);
    expect(schemaExample({ type: 'number', minimum: 0, maximum: 0.25 })).toBe(0.25);
  });

  it('keeps nested minItems from multiplying past a bounded document', () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let level = 0; level < 5; level++)
      schema = { type: 'array', minItems: 100, items: schema };
    // 100^5 values would never end; the first arrays are whole, the rest get one item.
    const strings = JSON.stringify(schemaExample(schema)).split('"text"').length - 1;
    expect(strings).toBeGreaterThanOrEqual(100);
    expect(strings).toBeLessThanOrEqual(10_100);
  });

  it('builds arrays of minItems (at least one) items', () => {
    expect(schemaExample({ type: 'array', items: { type: 'string' } })).toEqual(['text']);
    expect(schemaExample({ type: 'array', items: { type: 'integer' }, minItems: 3 })).toEqual([
      1, 1, 1,
    ]);
    expect(schemaExample({ type: 'array', items: { type: 'boolean' }, minItems: 0 })).toEqual([
      true,
    ]);
    expect(
      schemaExample({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] }),
    ).toEqual(['text', 1]);
  });

  it('takes the first branch of anyOf / oneOf and the first non-null type', () => {
    expect(schemaExample({ anyOf: [{ type: 'integer' }, { type: 'string' }] })).toBe(1);
    expect(schemaExample({ oneOf: [{ type: 'boolean' }, { type: 'string' }] })).toBe(true);
    expect(schemaExample({ type: ['null', 'string'] })).toBe('text');
    expect(schemaExample({ type: ['string', 'null'] })).toBe('text');
    expect(schemaExample({ anyOf: [{ type: 'null' }, { type: 'number' }] })).toBe(1);
  });

  it('resolves $ref into $defs and definitions', () => {
    const schema = {
      type: 'object',
      properties: {
        home: { $ref: '#/$defs/Address' },
        work: { $ref: '#/definitions/Address' },
        tags: { type: 'array', items: { $ref: '#/$defs/Tag' } },
      },
      required: ['home', 'work', 'tags'],
      $defs: {
        Address: {
          type: 'object',
          properties: { city: { type: 'string' }, zip: { type: 'integer', minimum: 10000 } },
          required: ['city', 'zip'],
        },
        Tag: { type: 'string', enum: ['red', 'blue'] },
      },
      definitions: {
        Address: { type: 'object', properties: { street: { type: 'string' } } },
      },
    };
    expect(schemaExample(schema)).toEqual({
      home: { city: 'text', zip: 10000 },
      work: { street: 'text' },
      tags: ['red'],
    });
  });

  it('gives null for what it does not know, and stops a recursive schema', () => {
    expect(schemaExample({})).toBeNull();
    expect(schemaExample({ type: 'unknown' })).toBeNull();
    expect(schemaExample({ $ref: '#/$defs/Missing' })).toBeNull();
    expect(schemaExample(undefined)).toBeNull();
    const tree = {
      $defs: {
        Node: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            children: { type: 'array', items: { $ref: '#/$defs/Node' } },
          },
        },
      },
      $ref: '#/$defs/Node',
    };
    const example = schemaExample(tree) as { name: string; children: unknown[] };
    expect(example.name).toBe('text');
    expect(JSON.stringify(example).length).toBeLessThan(2_000);
  });

  it('is deterministic', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'array', items: { type: 'number' }, minItems: 2 } },
    };
    expect(JSON.stringify(schemaExample(schema))).toBe(JSON.stringify(schemaExample(schema)));
  });
});
