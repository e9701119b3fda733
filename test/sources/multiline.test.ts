// Multiline aggregation (src/sources/multiline.ts): events of several lines from chunks of whole
// lines, with marks that never cover an event still held; then through the stdin and file
// sources and the raw encoder.

import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import type { FileSourceConfig, MultilineConfig } from '../../src/config/types.js';
import { encodeLines, makeEncodeOptions } from '../../src/engine/encoder.js';
import type { LineChunk, Source, SourceContext } from '../../src/pipeline/types.js';
import { build as buildFile } from '../../src/sources/file/source.js';
import { MultilineAggregator } from '../../src/sources/multiline.js';
import { build as buildStdin } from '../../src/sources/stdin/source.js';
import { captureLogger } from '../helpers/logger.js';
import { MemoryCheckpoints } from '../helpers/memory-checkpoints.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const ml = (m: Partial<MultilineConfig>): MultilineConfig => ({
  mode: 'indented',
  timeout: 1000,
  max_bytes: 1 << 20,
  ...m,
});

/** Feeds chunks of whole lines as a file source would: marks at each chunk's end offset. */
class Feeder {
  readonly out: LineChunk[] = [];
  readonly agg: MultilineAggregator;
  offset = 0;
  constructor(config: MultilineConfig) {
    this.agg = new MultilineAggregator(config, (c) => this.out.push(c));
  }
  push(text: string, at = 0): void {
    const buf = Buffer.from(text);
    this.offset += buf.length;
    const lines = text.split('\n').length - 1;
    this.agg.push({
      sourceId: 's',
      path: '/var/log/app.log',
      buf,
      lines,
      truncated: false,
      mark: {
        sourceId: 's',
        key: 'fp:1',
        offset: this.offset,
        path: '/var/log/app.log',
        dev: 1,
        ino: 2,
      },
      readAt: at,
    });
  }
  /** The events emitted so far, as text (each without its final `\n`). */
  events(): string[] {
    return this.out.flatMap(eventsOf);
  }
}

/** The events of a chunk: by its ends when it has them, else one per line. */
function eventsOf(c: LineChunk): string[] {
  const out: string[] = [];
  let s = 0;
  for (let k = 0; k < c.lines; k++) {
    const e = c.ends ? c.ends[k] : c.buf.indexOf(10, s) + 1;
    out.push(c.buf.toString('utf8', s, e - 1));
    s = e;
  }
  return out;
}

const JAVA = [
  'Exception in thread "main" java.lang.IllegalStateException: boom',
  '\tat com.example.App.run(App.java:10)',
  '\tat com.example.App.main(App.java:5)',
];
const PYTHON = [
  '2026-11-23 12:00:00,123 ERROR app: request failed',
  'Traceback (most recent call last):',
  '  File "/srv/app.py", line 10, in handle',
  '    do()',
  'ValueError: bad',
];
const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');

describe('multiline aggregator', () => {
  test('indented: a Java stack trace is one event; the last event waits for what follows', () => {
    const f = new Feeder(ml({ mode: 'indented' }));
    f.push(text(['before', ...JAVA, 'after 1', 'after 2']));
    expect(f.events()).toEqual(['before', JAVA.join('\n'), 'after 1']); // `after 2` is held
    expect(f.out.at(-1)!.ends).toBeInstanceOf(Int32Array);
    f.agg.flushAll();
    expect(f.events().at(-1)).toBe('after 2');
  });

  test('start_pattern: a Python traceback (unindented last line) stays with its log line', () => {
    const f = new Feeder(ml({ mode: 'start_pattern', pattern: '^\\d{4}-\\d\\d-\\d\\d ' }));
    f.push(
      text([
        ...PYTHON,
        '2026-11-23 12:00:01,000 INFO app: ok',
        '2026-11-23 12:00:02,000 INFO app: held',
      ]),
    );
    expect(f.events()).toEqual([PYTHON.join('\n'), '2026-11-23 12:00:01,000 INFO app: ok']);
  });

  test('start_pattern sees at most the first 256 bytes and no line end', () => {
    const f = new Feeder(ml({ mode: 'start_pattern', pattern: 'x$' }));
    f.push(text(['a'.repeat(255) + 'x', 'cont', 'a'.repeat(256) + 'x', 'b']));
    f.agg.flushAll();
    expect(f.events()).toEqual(['a'.repeat(255) + 'x\ncont\n' + 'a'.repeat(256) + 'x\nb']);
  });

  test('start_prefix: lines beginning with the prefix start events', () => {
    const f = new Feeder(ml({ mode: 'start_prefix', prefix: '[20' }));
    f.push(text(['[2026-11-23] one', 'detail', '[2', '[2026-11-23] two', 'x']));
    f.agg.flushAll();
    expect(f.events()).toEqual(['[2026-11-23] one\ndetail\n[2', '[2026-11-23] two\nx']);
  });

  test('an event spanning chunks is joined; events wholly inside a chunk are not copied', () => {
    const f = new Feeder(ml({ mode: 'indented' }));
    const first = Buffer.from(text(['a', 'b', JAVA[0], JAVA[1]]));
    f.push(first.toString());
    f.push(text([JAVA[2], 'c']));
    f.agg.flushAll();
    expect(f.events()).toEqual(['a', 'b', JAVA.join('\n'), 'c']);
    expect(f.out[0].ends).toBeUndefined(); // single-line events: no ends needed
  });

  test('timeout: a held event leaves once no line came for `timeout`, covering all read', () => {
    const f = new Feeder(ml({ mode: 'indented', timeout: 500 }));
    f.push(text(JAVA.slice(0, 2)), 1000);
    f.agg.flushIdle(1499);
    expect(f.out).toHaveLength(0);
    f.push(text(JAVA.slice(2)), 1400);
    f.agg.flushIdle(1899); // 499 ms after the last line: still waiting
    expect(f.out).toHaveLength(0);
    f.agg.flushIdle(1900);
    expect(f.events()).toEqual([JAVA.join('\n')]);
    expect(f.out[0].mark!.offset).toBe(f.offset);
    expect(f.agg.holding).toBe(false);
  });

  test('max_bytes: a longer event is cut, flagged, travels alone; its further lines dropped', () => {
    const f = new Feeder(ml({ mode: 'indented', max_bytes: 20 }));
    f.push(text(['ok', 'head 0123456789', '  cont 0123456789', '  more', 'next', 'last']));
    f.agg.flushAll();
    expect(f.events()).toEqual(['ok', 'head 0123456789\n  co', 'next', 'last']);
    expect(f.out.map((c) => c.truncated)).toEqual([false, true, false, false]);
    // The cut event's mark is where `next` starts: the dropped lines are behind it.
    const all = text(['ok', 'head 0123456789', '  cont 0123456789', '  more', 'next', 'last']);
    expect(f.out[1].mark!.offset).toBe(all.indexOf('next'));
  });

  test('max_bytes across chunks: the held event is cut as it grows', () => {
    const f = new Feeder(ml({ mode: 'indented', max_bytes: 10 }));
    f.push(text(['head']));
    f.push(text(['  abcdef', '  ghi']));
    f.push(text(['x']));
    f.agg.flushAll();
    expect(f.events()).toEqual(['head\n  abc', 'x']);
    expect(f.out[0].truncated).toBe(true);
  });

  test('a line cut at max_line_bytes makes its event truncated', () => {
    const out: LineChunk[] = [];
    const agg = new MultilineAggregator(ml({ mode: 'indented' }), (c) => out.push(c));
    const base = { sourceId: 's', path: '-', mark: null, readAt: 0 };
    agg.push({ ...base, buf: Buffer.from('head\n'), lines: 1, truncated: false });
    agg.push({ ...base, buf: Buffer.from('  long cut\n'), lines: 1, truncated: true });
    agg.push({ ...base, buf: Buffer.from('next\n'), lines: 1, truncated: false });
    agg.flushAll();
    expect(out.map((c) => [c.buf.toString(), c.truncated])).toEqual([
      ['head\n  long cut\n', true],
      ['next\n', false],
    ]);
  });

  test('marks never cover a held event: what was emitted is exactly the file up to each mark', () => {
    // A seeded walk over random traces and random chunkings at line boundaries.
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 50; round++) {
      const lines: string[] = [];
      for (let k = 0; k < 60; k++) lines.push(rnd(3) === 0 ? `\tat frame ${k}` : `event ${k}`);
      const file = text(lines);
      const f = new Feeder(ml({ mode: 'indented' }));
      let i = 0;
      while (i < lines.length) {
        const n = 1 + rnd(8);
        f.push(text(lines.slice(i, i + n)));
        i += n;
        // Every chunk emitted so far, joined, is the file's prefix up to the last mark.
        const emitted = f.out.map((c) => c.buf.toString()).join('');
        const mark = f.out.length === 0 ? 0 : f.out.at(-1)!.mark!.offset;
        expect(emitted).toBe(file.slice(0, mark));
        expect(mark).toBeLessThanOrEqual(f.offset);
      }
      f.agg.flushAll();
      expect(f.out.map((c) => c.buf.toString()).join('')).toBe(file);
      expect(f.out.at(-1)!.mark!.offset).toBe(file.length);
      // And the events are the lines grouped at each non-indented line.
      const want: string[] = [];
      for (const l of lines) {
        if (l.startsWith('\t') && want.length > 0) want[want.length - 1] += `\n${l}`;
        else want.push(l);
      }
      expect(f.events()).toEqual(want);
    }
  });

  test('a truncated (copytruncate) file: what is held leaves with the old content mark', () => {
    const f = new Feeder(ml({ mode: 'indented' }));
    f.push(text(['a', 'b', '  c']));
    f.offset = 0; // the file starts again
    f.push(text(['new']));
    expect(f.events()).toEqual(['a', 'b\n  c']);
    expect(f.out.map((c) => c.mark!.offset)).toEqual([2, 8]);
  });
});

describe('encoding multiline events', () => {
  test('the raw encoder writes each event with `\\n` escaped, and `truncated` when cut', () => {
    const opts = makeEncodeOptions({ host: 'h', now: () => 0 });
    const buf = Buffer.from('one\r\ntwo\n\tat x\r\nthree\n');
    const chunk: LineChunk = {
      sourceId: 's',
      path: '/p',
      buf,
      lines: 3,
      ends: Int32Array.of(5, 16, 22),
      truncated: false,
      mark: null,
      readAt: 0,
    };
    const block = encodeLines(chunk, { ndjson: true, raw: true }, opts);
    const events = block
      .ndjson!.toString()
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.message)).toEqual(['one', 'two\n\tat x', 'three']);
    expect(block.events).toBe(3);
    expect(block.raw!.toString()).toBe('one\ntwo\n\tat x\nthree\n');
    const cut = encodeLines(
      { ...chunk, lines: 1, ends: Int32Array.of(5), buf: buf.subarray(0, 5), truncated: true },
      { ndjson: true, raw: false },
      opts,
    );
    expect(JSON.parse(cut.ndjson!.toString())).toMatchObject({ message: 'one', truncated: true });
  });
});

describe('sources with multiline', () => {
  const dir = useTempDir();
  const started: Source[] = [];
  afterEach(async () => {
    await Promise.all(started.map((s) => s.stop()));
    started.length = 0;
  });

  function context(): { ctx: SourceContext; chunks: LineChunk[]; done: () => number } {
    const chunks: LineChunk[] = [];
    let done = 0;
    const ctx: SourceContext = {
      id: 'app',
      dataDir: dir() || '/nonexistent',
      log: captureLogger().log,
      checkpoints: new MemoryCheckpoints(),
      emit: (c) => chunks.push(c),
      done: () => done++,
    };
    return { ctx, chunks, done: () => done };
  }

  test('stdin: the end of the stream emits the held event', async () => {
    const input = new PassThrough();
    const { ctx, chunks, done } = context();
    const src = await buildStdin(
      { type: 'stdin', parser: 'raw', fields: {}, max_line_bytes: 1024, multiline: ml({}) },
      ctx,
      { input },
    );
    await src.start();
    input.write(text(['a', ...JAVA.slice(0, 2)]));
    input.end(text(JAVA.slice(2)));
    await waitFor(() => done() === 1);
    expect(chunks.flatMap(eventsOf)).toEqual(['a', JAVA.join('\n')]);
  });

  test('file: the mark stays before a held event until the timeout emits it', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, text(['first', ...JAVA.slice(0, 2)]));
    const { ctx, chunks } = context();
    const config: FileSourceConfig = {
      type: 'file',
      include: [p],
      exclude: [],
      read_from: 'beginning',
      parser: 'raw',
      fields: {},
      max_line_bytes: 1024,
      read_chunk_bytes: 64 * 1024,
      partial_line_timeout: 60_000,
      poll_interval: 20,
      fingerprint: 'checksum',
      idle_timeout: 60_000,
      multiline: ml({ timeout: 300 }),
    };
    const src = await buildFile(config, ctx);
    started.push(src);
    await src.start();
    await waitFor(() => chunks.length === 1);
    expect(chunks[0].buf.toString()).toBe('first\n');
    expect(chunks[0].mark!.offset).toBe(6); // not past `first`: the trace is held
    await appendFile(p, text(JAVA.slice(2)));
    await waitFor(() => chunks.length === 2, { timeout: 3000 });
    expect(eventsOf(chunks[1])).toEqual([JAVA.join('\n')]);
    expect(chunks[1].mark!.offset).toBe(text(['first', ...JAVA]).length);
  });
});
