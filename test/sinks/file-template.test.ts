// The file sink with a `{field}` path: values sanitised so no event escapes the template's
// directory, one file per rendered path, a bounded number of open files.

import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compilePathTemplate, sanitize } from '../../src/sinks/file/path-template.js';
import { build } from '../../src/sinks/file/sink.js';
import { parse, expectConfigError } from '../config/helpers.js';
import { assertSinkCompliance, testBatch } from '../helpers/sink-compliance.js';
import { useTempDir } from '../helpers/tmp.js';
import { cfg, ctx } from './file-helpers.js';

/** A batch of events with the given fields (and a message each). */
function events(list: Record<string, unknown>[]) {
  const b = testBatch(list.map((_, i) => `m${i}`));
  b.ndjson = Buffer.from(
    list.map((e, i) => JSON.stringify({ message: `m${i}`, ...e }) + '\n').join(''),
  );
  return b;
}

/** Every file under `dir`, relative, sorted. */
async function files(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true, withFileTypes: true });
  return all
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

describe('path templates', () => {
  test('a path without braces is not a template', () => {
    expect(compilePathTemplate('/var/log/out.ndjson')).toBeNull();
  });

  test('the static directory is what comes before the first field', () => {
    expect(compilePathTemplate('/o/app-{service}/{host}.log')?.base).toBe('/o');
    expect(compilePathTemplate('/o/{service}.log')?.base).toBe('/o');
    expect(compilePathTemplate('out/{a}', '/w')?.base).toBe('/w/out');
    expect(compilePathTemplate('/o/{a}')?.fields).toEqual(['a']);
  });

  test.each([['/o/{}.log'], ['/o/{a b}.log'], ['/o/{a.log'], ['/o/a}.log']])(
    'braces that do not enclose a field name are refused: %s',
    (p) => {
      expect(() => compilePathTemplate(p)).toThrow(/braces must enclose a field name/);
    },
  );

  test.each<[string, string]>([
    ['web', 'web'],
    ['../../etc/passwd', '______etc_passwd'],
    ['..', '__'],
    ['.', '_'],
    ['', '_'],
    ['a/b\\c', 'a_b_c'],
    ['nul\0byte', 'nul_byte'],
    ['line\nbreak\x7f', 'line_break_'],
    ['v1.2.3', 'v1.2.3'],
    ['x'.repeat(100), 'x'.repeat(64)],
    [`${'x'.repeat(63)}\u{1f600}`, 'x'.repeat(63)],
  ])('sanitize(%j) = %j', (value, want) => {
    expect(sanitize(value)).toBe(want);
  });

  test('rendering: fields, nested fields, numbers, missing and hostile values', () => {
    const t = compilePathTemplate('/o/{service}/{k.pod}-{status}.log')!;
    const path = (e: unknown) => t.pathOf(Buffer.from(JSON.stringify(e) + '\n'));
    expect(path({ service: 'web', k: { pod: 'p1' }, status: 200 })).toBe('/o/web/p1-200.log');
    expect(path({})).toBe('/o/_/_-_.log');
    expect(path({ service: '../..', k: { pod: '../../etc' }, status: null })).toBe(
      '/o/_____/______etc-_.log',
    );
    expect(path({ service: { nested: 1 } })).toBe('/o/_/_-_.log');
    expect(t.pathOf(Buffer.from('not json\n'))).toBe('/o/_/_-_.log');
  });

  // The byte scan (plain names) must read what JSON.parse reads, on lines made to confuse it.
  const tricky: unknown[] = [
    { a: 'x', b: 1.5, c: true },
    { a: 'say "hi" \\ {"a":"no"}', b: -0.0, c: false },
    { z: { a: 'nested, not top' }, a: 'top' },
    { z: ['a', { a: 'in array' }, '"a":"x"'], b: null },
    { a: 'caf\u00e9 \u{1f600} \u2028', b: 1e21, c: 'x\ny\u0000' },
    { a: '', b: 'a' },
    { message: '{"a":"fake"}', a: 'real' },
    {},
  ];
  test.each(tricky)('scan = JSON.parse: %j', (event) => {
    const t = compilePathTemplate('/o/{a}/{b}-{c}')!;
    const n = compilePathTemplate('/o/{a}/{b}-{c}-{x.y}')!; // dotted: the JSON.parse path
    for (const text of [JSON.stringify(event), JSON.stringify(event, null, 1)]) {
      const line = Buffer.from(text.replace(/\n/g, ' ') + '\n');
      const viaParse = n.pathOf(line).replace(/-_$/, '');
      expect(t.pathOf(line)).toBe(viaParse);
    }
  });

  test('a key repeated takes its last value, as JSON.parse does', () => {
    const t = compilePathTemplate('/o/{a}')!;
    expect(t.pathOf(Buffer.from('{"a":"one","a":"two"}\n'))).toBe('/o/two');
  });

  test('config: a {field} path needs ndjson; bad braces name the key', () => {
    const src = 'sources:\n  a: {type: stdin}\n';
    expectConfigError(
      () => parse(`${src}sinks:\n  out: {type: file, path: "/o/{svc}.log", encoding: raw}\n`),
      { code: 'VES_CONFIG_INVALID', path: 'sinks.out.path', line: 4, col: 27, says: 'ndjson' },
    );
    expectConfigError(() => parse(`${src}sinks:\n  out: {type: file, path: "/o/{a b}.log"}\n`), {
      code: 'VES_CONFIG_TYPE',
      path: 'sinks.out.path',
      line: 4,
      col: 27,
    });
    const ok = parse(`${src}sinks:\n  out: {type: file, path: "/o/{svc}.log"}\n`);
    expect(ok.sinks.out).toMatchObject({ path: '/o/{svc}.log', max_open_files: 64 });
  });
});

describe('file sink with a {field} path', () => {
  const tmp = useTempDir();

  test('compliance: events without the field all go to the `_` file', async () => {
    const dir = tmp();
    const sink = await build(cfg(join(dir, '{service}.ndjson')), ctx);
    await assertSinkCompliance(
      sink,
      () => readFile(join(dir, '_.ndjson')).catch(() => Buffer.alloc(0)),
      'ndjson',
    );
  });

  test('each event goes to its file, in order; hostile values stay inside the directory', async () => {
    const root = tmp();
    const dir = join(root, 'out');
    const sink = await build(cfg(join(dir, '{service}/{host}.ndjson')), ctx);
    await sink.healthcheck?.();
    await sink.write(
      events([
        { service: 'web', host: 'a' },
        { service: 'db', host: 'a' },
        { service: 'web', host: 'a' },
        { service: '../../..', host: '../../../../etc/passwd' },
        { service: '..', host: '/etc/passwd' },
        { service: '/abs', host: 'x\0y' },
      ]),
    );
    await sink.close();
    expect(await files(root)).toEqual(
      [
        'out/________/____________etc_passwd.ndjson',
        'out/__/_etc_passwd.ndjson',
        'out/_abs/x_y.ndjson',
        'out/db/a.ndjson',
        'out/web/a.ndjson',
      ].sort(),
    );
    const web = (await readFile(join(dir, 'web/a.ndjson'), 'utf8')).trim().split('\n');
    expect(web.map((l) => JSON.parse(l).message)).toEqual(['m0', 'm2']);
  });

  test('max_open_files bounds the open files; closed ones are reopened and appended to', async () => {
    const dir = tmp();
    const sink = await build(cfg(join(dir, '{n}.ndjson'), { max_open_files: 3 }), ctx);
    const open = () => (sink as unknown as { openFiles: number }).openFiles;
    for (let round = 0; round < 2; round++) {
      await sink.write(events(Array.from({ length: 10 }, (_, n) => ({ n }))));
      expect(open()).toBe(3);
    }
    await sink.close();
    expect(await files(dir)).toHaveLength(10);
    for (let n = 0; n < 10; n++) {
      const lines = (await readFile(join(dir, `${n}.ndjson`), 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(2);
    }
  });
});
