// The schema DSL on its own: list strictness, aliases, names, suggestions, and configs built in
// code (no line:col, no interpolation).

import { describe, expect, test } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import {
  array,
  decodeRoot,
  decodeValue,
  int,
  map,
  object,
  string,
  type Schema,
} from '../../src/config/schema.js';
import { suggest } from '../../src/config/suggest.js';
import { expectConfigError, FILE, parse, SINK } from './helpers.js';

/** Decodes `text` against any schema, as the loader does for the agent schema. */
function decode<T>(schema: Schema<T>, text: string, env: NodeJS.ProcessEnv = {}): T {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return decodeRoot(schema, doc.contents!, { file: FILE, lineCounter, doc, env, issues: [] });
}

const tags = object(
  {
    tags: array(string({ doc: 'A tag.' }), { default: [], doc: 'Tags.' }),
    one: array(string({ doc: 'A glob.' }), { single: true, default: [], doc: 'Globs.' }),
  },
  { doc: 'Test object.' },
);

describe('lists', () => {
  test('a single string is not silently a list', () => {
    expectConfigError(() => decode(tags, 'tags: web\n'), {
      code: 'VES_CONFIG_TYPE',
      path: 'tags',
      line: 1,
      col: 7,
      says: 'expected a list like [a, b], got "web"',
    });
  });

  test('unless the field says so', () => {
    expect(decode(tags, 'one: web\n')).toEqual({ tags: [], one: ['web'] });
  });

  test('every bad item is reported', () => {
    const err = expectConfigError(() => decode(tags, 'tags: [a, 1, [b]]\n'), {
      code: 'VES_CONFIG_TYPE',
      path: 'tags[1]',
      line: 1,
      col: 11,
    });
    expect(err.message).toContain('tags[2]: expected a string, got a list');
  });
});

describe('YAML features', () => {
  test('anchors and aliases resolve', () => {
    const c = parse(
      'sources:\n  a: &src {type: file, include: [x.log], read_from: end}\n  b: *src\n' + SINK,
    );
    expect(c.sources.b).toEqual(c.sources.a);
  });

  test('`__proto__` as a name stays a plain key', () => {
    const named = map(int({ doc: 'n' }), { doc: 'numbers', what: 'number' });
    const out = decode(named, '__proto__: 1\nok: 2\n');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'ok']);
  });
});

describe('configs built in code', () => {
  test('get defaults and checks, no line:col and no interpolation', () => {
    expect(decodeValue(tags, { one: '${X}' }, '--flags')).toEqual({ tags: [], one: ['${X}'] });
    let err: unknown;
    try {
      decodeValue(tags, { tags: 'x' }, '--flags');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'VES_CONFIG_TYPE', path: 'tags', location: undefined });
  });
});

describe('suggest', () => {
  const keys = ['include', 'exclude', 'read_from', 'parser', 'fields', 'type'];
  test.each([
    ['includ', '; did you mean `include`?'],
    ['Include', '; did you mean `include`?'],
    ['read_form', '; did you mean `read_from`?'],
    ['parsre', '; did you mean `parser`?'],
    ['tpye', '; did you mean `type`?'],
    ['field', '; did you mean `fields`?'],
    ['colour', ''],
    ['x', ''],
  ])('%s -> %j', (name, hint) => {
    expect(suggest(name, keys)).toBe(hint);
  });
});
