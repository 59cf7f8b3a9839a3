import { describe, expect, it } from 'vitest';
import { dropWireText, wireTextOf, withWireText } from '../../lib/client/wire-text.js';

describe('wire text', () => {
  const text = '{ "choices": [], "id": "x" }';

  it('rides on the chunk without showing in its keys, copies, JSON or clones', () => {
    const chunk = withWireText(JSON.parse(text) as Record<string, unknown>, text);
    expect(wireTextOf(chunk)).toBe(text);
    expect(Object.keys(chunk)).toEqual(['choices', 'id']);
    expect(Reflect.ownKeys(chunk)).toHaveLength(3);
    expect(JSON.stringify(chunk)).toBe('{"choices":[],"id":"x"}');
    expect(wireTextOf({ ...chunk })).toBeUndefined();
    expect(wireTextOf(Object.assign({}, chunk))).toBeUndefined();
    expect(wireTextOf(structuredClone(chunk))).toBeUndefined();
  });

  it('is gone once dropped, and attaching again replaces it', () => {
    const chunk = withWireText(JSON.parse(text) as object, text);
    dropWireText(chunk);
    expect(wireTextOf(chunk)).toBeUndefined();
    expect(Reflect.ownKeys(chunk)).toEqual(['choices', 'id']);
    dropWireText(chunk); // twice is harmless
    withWireText(withWireText(chunk, 'a'), 'b');
    expect(wireTextOf(chunk)).toBe('b');
  });
});
