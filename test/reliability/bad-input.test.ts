// A generated corpus of hostile lines through the built binary: binary noise, invalid UTF-8,
// NUL bytes, ANSI escapes, 10 MB lines, a million empty lines, JSON nested 10,000 deep, and
// lines that almost match each parser. No crash, every line comes out as one event (flagged
// `parse_error` / `truncated` where it must be), and the output is valid UTF-8 NDJSON.
// (test/e2e/hostile-input.test.ts checks a few such lines byte for byte; this is the volume.)
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lineCounter } from '../../bench/e2e/lib.mjs';
import { startAgent, tempDir, waitFor } from '../e2e/harness.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('ves-rel-badinput-')));
afterAll(async () => cleanup());

const MB = 1024 * 1024;
/** The sources' max_line_bytes (the default, 256 KiB): a 10 MB line comes out cut to this. */
const MAX_LINE = 256 * 1024;

/** Seeded noise (xorshift32): the same corpus every run. */
function noise(bytes: number, seed = 0x9e3779b9): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  let x = seed >>> 0;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

const lines = (...l: Array<string | Buffer>): Buffer =>
  Buffer.concat(l.map((x) => Buffer.concat([Buffer.from(x), Buffer.from('\n')])));

const NGINX_OK =
  '10.0.0.1 - - [23/Nov/2026:12:00:00 +0000] "GET /a HTTP/1.1" 200 512 "-" "curl/8.5.0"';

/** Lines each parser must refuse (kept whole, `parse_error: true`): one byte or field off. */
const nearMiss: Record<string, string[]> = {
  nginx: [
    '10.0.0.1 - - [23/Nov/2026:12:00:00 +0000] "GET /a HTTP/1.1" 200', // no bytes
    '10.0.0.1 - - [23/Nov/2026:12:00:00 +0000 "GET /a HTTP/1.1" 200 512', // no ]
    '10.0.0.1 - - [23/Nov/2026:12:00:00 +0000] "GET /a HTTP/1.1" abc 512', // status not a number
    '10.0.0.1 - - [23/Nov/2026:12:00:00 +0000] "GET /a HTTP/1.1 200 512', // unclosed quote
    '10.0.0.1 [23/Nov/2026:12:00:00 +0000] "GET /a HTTP/1.1" 200 512', // no ident/user
    '',
  ],
  apache: [
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200',
    '127.0.0.1 - frank 10/Oct/2000:13:55:36 -0700 "GET /apache_pb.gif HTTP/1.0" 200 2326',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] GET /apache_pb.gif HTTP/1.0 200 2326',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 2x0 2326',
  ],
  json: [
    '{"a":1',
    '{"a":01}',
    '[1,2,3]',
    '"just a string"',
    '{"a":NaN}',
    "{'a':1}",
    '{"a":1} trailing',
    '{"a":1,}',
    '{"a" 1}',
    '{"a":"\u0001raw control"}',
    '{"a":"bad escape \\q"}',
    '{"a":tru}',
    '',
  ],
  logfmt: ['key="unterminated', 'a="b"c=d', '=value', 'a=1 ="x"', ''],
  syslog: ['hello world, not syslog', 'Nov 23 host app: no time', '<13 Nov 23 12:00:00 h a: x', ''],
};

/** Lines each parser must read (no parse_error): the near misses are near *these*. */
const good: Record<string, string[]> = {
  nginx: [NGINX_OK],
  apache: ['127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326'],
  json: ['{"a":1,"b":"x"}', '{"a":{"b":[1,2,{"c":null}]}}'],
  logfmt: ['level=info msg="hello world" n=1'],
  syslog: [
    '<34>1 2026-11-23T12:00:00.000Z host app 1 ID47 - hello',
    '<13>Nov 23 12:00:00 host sshd[12]: accepted',
  ],
};

const DEEP = 10_000;

test('hostile input: no crash, every line out as one valid NDJSON event', async () => {
  const files: Record<string, { parser: string; body: Buffer; truncated: number }> = {};

  // raw: bytes a host can produce on a bad day.
  const binary = noise(256 * 1024);
  const tenMbText = Buffer.alloc(10 * MB, 'A');
  const tenMbBinary = noise(10 * MB, 7);
  for (let i = tenMbBinary.indexOf(10); i !== -1; i = tenMbBinary.indexOf(10, i + 1))
    tenMbBinary[i] = 0x20; // one line: no newline inside
  files.hostile = {
    parser: 'raw',
    truncated: 2,
    body: Buffer.concat([
      binary, // ~1,000 lines of noise (a \n every 256 bytes on average)
      Buffer.from('\n'),
      lines(
        Buffer.from([0x62, 0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80]), // invalid UTF-8
        Buffer.from([0xe2, 0x82]), // a character cut short at the line end
        Buffer.from('nul\0inside\0\0'),
        Buffer.from([0]),
        '\u001b[31mred\u001b[0m \u001b]0;title\u0007 \u001b[2J',
        '\ufeffBOM first',
        'cr in\rthe middle',
        '\t \t ',
        tenMbText,
        tenMbBinary,
        '"quotes" \\backslashes\\ and \u2028 \u2029 separators',
      ),
    ]),
  };
  // A million empty lines.
  files.empty = { parser: 'raw', truncated: 0, body: Buffer.alloc(1_000_000, 10) };
  // JSON nested 10,000 deep (valid, and not: arrays and unclosed), and a 10 MB JSON line.
  const deepObject = '{"a":'.repeat(DEEP) + '1' + '}'.repeat(DEEP);
  const deepArray = '{"a":' + '['.repeat(DEEP) + ']'.repeat(DEEP) + '}';
  const deepUnclosed = '{"a":' + '['.repeat(100 * DEEP);
  const bigJson = `{"m":"${'x'.repeat(10 * MB)}"}`;
  for (const [parser, bad] of Object.entries(nearMiss)) {
    const extra = parser === 'json' ? [deepObject, deepArray, deepUnclosed, bigJson] : [];
    files[parser] = {
      parser,
      truncated: parser === 'json' ? 2 : 0, // the 10 MB line and the 1 MB unclosed one
      body: lines(...good[parser], ...bad, ...extra, ...good[parser]),
    };
  }

  const sources: string[] = [];
  const expected: Record<string, number> = {};
  for (const [name, f] of Object.entries(files)) {
    const path = join(dir, `${name}.log`);
    await writeFile(path, f.body);
    let n = 0;
    for (let i = f.body.indexOf(10); i !== -1; i = f.body.indexOf(10, i + 1)) n++;
    expected[path] = n;
    sources.push(`  ${name}: {type: file, include: [${path}], parser: ${f.parser}}`);
  }
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  const out = join(dir, 'out.ndjson');
  const cfg = join(dir, 'agent.yaml');
  await writeFile(
    cfg,
    `data_dir: ${join(dir, 'data')}\nsources:\n${sources.join('\n')}\nsinks:\n  out: {type: file, path: ${out}}\n`,
  );

  const started = performance.now();
  const agent = startAgent(['--config', cfg]);
  const counter = lineCounter(out); // reads only new bytes: the output grows to ~100 MB
  try {
    await waitFor(
      () => counter.count() >= total && agent.proc.exitCode === null,
      `${total} events`,
      75_000,
      () =>
        `${counter.count()} of ${total}; exit ${agent.proc.exitCode}; ${agent.stderr().slice(-2000)}`,
    );
    const secs = (performance.now() - started) / 1000;
    console.log(
      `bad input: ${total} lines (${(Object.values(files).reduce((a, f) => a + f.body.length, 0) / MB).toFixed(1)} MB) in ${secs.toFixed(1)} s, load average ${(await import('node:os')).loadavg()[0].toFixed(2)}`,
    );
    // Nothing more arrives (no line is split in two, no event emitted twice).
    await new Promise((r) => setTimeout(r, 500));
    expect(counter.count()).toBe(total);
    agent.proc.kill('SIGTERM');
    expect((await agent.exited).code, agent.stderr()).toBe(0);
  } finally {
    agent.proc.kill('SIGKILL');
    counter.close();
  }

  // Valid UTF-8 as a whole, and every line one JSON object.
  expect(isUtf8(await readFile(out))).toBe(true);
  const bySource: Record<string, number> = {};
  const truncated: Record<string, number> = {};
  const events: Record<string, Array<Record<string, unknown>>> = {};
  const keep = new Set(Object.keys(nearMiss).map((p) => join(dir, `${p}.log`)));
  const rl = createInterface({ input: createReadStream(out), crlfDelay: Infinity });
  for await (const line of rl) {
    const e = JSON.parse(line) as Record<string, unknown>; // throws on anything not JSON
    // A plain check: expect() per line would cost more than the agent's whole run.
    if (typeof e !== 'object' || e === null || Array.isArray(e))
      throw new Error(`not an object: ${line}`);
    const src = String(e.source);
    bySource[src] = (bySource[src] ?? 0) + 1;
    if (e.truncated === true) truncated[src] = (truncated[src] ?? 0) + 1;
    if (keep.has(src) || src.endsWith('hostile.log')) (events[src] ??= []).push(e);
  }
  expect(bySource).toEqual(expected);
  for (const [name, f] of Object.entries(files)) {
    expect(truncated[join(dir, `${name}.log`)] ?? 0, name).toBe(f.truncated);
  }

  // Near misses are kept whole and flagged; good lines around them parse.
  for (const [parser, bad] of Object.entries(nearMiss)) {
    const evs = events[join(dir, `${parser}.log`)];
    const nGood = good[parser].length;
    const flagged = evs.slice(nGood, nGood + bad.length);
    for (const [i, e] of flagged.entries()) {
      expect({ parser, line: bad[i], parse_error: e.parse_error, message: e.message }).toEqual({
        parser,
        line: bad[i],
        parse_error: true,
        message: bad[i],
      });
    }
    for (const e of [...evs.slice(0, nGood), ...evs.slice(-nGood)]) {
      expect(e.parse_error, `${parser}: ${JSON.stringify(e)}`).toBeUndefined();
    }
  }
  // The deep JSON object is read (10,000 levels copied as they are), the others flagged.
  const json = events[join(dir, 'json.log')];
  const deep = json[good.json.length + nearMiss.json.length];
  expect(deep.parse_error).toBeUndefined();
  let depth = 0;
  for (let v: unknown = deep.a; typeof v === 'object' && v !== null; v = (v as { a: unknown }).a)
    depth++;
  expect(depth).toBe(DEEP - 1);
  expect(json[good.json.length + nearMiss.json.length + 1].parse_error).toBeUndefined();
  expect(json[good.json.length + nearMiss.json.length + 2].parse_error).toBe(true);
  const big = json[good.json.length + nearMiss.json.length + 3];
  expect(big).toMatchObject({ parse_error: true, truncated: true });
  expect(String(big.message)).toHaveLength(MAX_LINE);

  // Raw bytes come back as the text they are: U+FFFD for invalid UTF-8, NUL and ESC escaped.
  const hostile = events[join(dir, 'hostile.log')].map((e) => String(e.message));
  const tail = hostile.slice(-11);
  expect(tail[0]).toBe(
    Buffer.from([
      0x62, 0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80,
    ]).toString(),
  );
  expect(tail[1]).toBe('\ufffd');
  expect(tail[2]).toBe('nul\0inside\0\0');
  expect(tail[3]).toBe('\0');
  expect(tail[4]).toBe('\u001b[31mred\u001b[0m \u001b]0;title\u0007 \u001b[2J');
  expect(tail[5]).toBe('\ufeffBOM first');
  expect(tail[6]).toBe('cr in\rthe middle');
  expect(tail[8]).toBe('A'.repeat(MAX_LINE));
  expect(tail[9].length).toBeGreaterThan(0);
  expect(tail[10]).toBe('"quotes" \\backslashes\\ and \u2028 \u2029 separators');
});
