// The process stage picks each source's parser: raw sources go through the raw encoder, parsed
// ones through their ParseStage; parse errors are counted, raw sinks get the lines as read, and
// the multiline `ends` of a chunk are honoured.

import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { Counters } from '../../src/observe/counters.js';
import { Processor } from '../../src/pipeline/process.js';
import type { LineChunk, Wants } from '../../src/pipeline/types.js';

const CONFIG = `
sources:
  web: {type: stdin, parser: nginx, fields: {service: web}}
  kept: {type: stdin, parser: nginx, keep_message: true}
  app: {type: stdin, parser: json}
  plain: {type: stdin}
  custom:
    type: stdin
    parser: template
    templates: ['[{level}] {message}']
sinks:
  out: {type: stdout}
`;

const NGINX = '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"';

function chunk(sourceId: string, text: string, extra: Partial<LineChunk> = {}): LineChunk {
  return {
    sourceId,
    path: '/var/log/x.log',
    buf: Buffer.from(text),
    lines: text.split('\n').length - 1,
    truncated: false,
    mark: null,
    readAt: 0,
    ...extra,
  };
}

function make(wants: Wants = { ndjson: true, raw: false }) {
  const config = parseConfig(CONFIG, 'agent.yaml', {});
  const counters = new Counters();
  return { p: new Processor(config, wants, counters), counters };
}

const events = (b: { ndjson: Buffer | null }) =>
  b
    .ndjson!.toString()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('Processor', () => {
  test('each source gets its own parser', () => {
    const { p } = make();
    expect(events(p.process(chunk('web', NGINX + '\n')))[0]).toMatchObject({
      service: 'web',
      status: 200,
      timestamp: '2026-11-23T12:00:00.000Z',
    });
    expect(events(p.process(chunk('web', NGINX + '\n')))[0].message).toBeUndefined();
    expect(events(p.process(chunk('kept', NGINX + '\n')))[0].message).toBe(NGINX);
    expect(events(p.process(chunk('app', '{"a":[1]}\n')))[0]).toMatchObject({ a: [1] });
    const plain = events(p.process(chunk('plain', 'just text\n')))[0];
    expect(Object.keys(plain)).toEqual(['message', 'timestamp', 'source', 'host']);
    expect(events(p.process(chunk('custom', '[warn] disk\n')))[0]).toMatchObject({
      message: 'disk',
      level: 'warn',
    });
  });

  test('parse errors are counted; every line is still an event', () => {
    const { p, counters } = make();
    const b = p.process(chunk('web', `${NGINX}\nnot nginx\n\n${NGINX}\n`));
    expect(b.events).toBe(4);
    expect(events(b).map((e) => e.parse_error ?? false)).toEqual([false, true, true, false]);
    expect(counters.parseErrors).toBe(2);
    expect(counters.linesIn).toBe(4);
    p.process(chunk('app', '{"a":1}\n{oops\n'));
    expect(counters.parseErrors).toBe(3);
    p.process(chunk('plain', 'anything\n'));
    expect(counters.parseErrors).toBe(3);
  });

  test('raw sinks get the lines as read (without \\r), parsed or not', () => {
    const { p } = make({ ndjson: true, raw: true });
    const b = p.process(chunk('web', `${NGINX}\r\nbad\r\n`));
    expect(b.raw!.toString()).toBe(`${NGINX}\nbad\n`);
    expect(events(b)).toHaveLength(2);
    const onlyRaw = make({ ndjson: false, raw: true }).p.process(chunk('web', `${NGINX}\n`));
    expect(onlyRaw.ndjson).toBeNull();
    expect(onlyRaw.raw!.toString()).toBe(`${NGINX}\n`);
  });

  test('a multiline chunk: `ends` marks events that hold \\n', () => {
    const { p } = make();
    const text = '[error] boom\n  at a()\n  at b()\n[info] ok\n';
    const b = p.process(
      chunk('custom', text, {
        lines: 2,
        ends: Int32Array.from([text.indexOf('[info]'), text.length]),
      }),
    );
    expect(events(b).map((e) => [e.level, e.message])).toEqual([
      ['error', 'boom\n  at a()\n  at b()'],
      ['info', 'ok'],
    ]);
  });
});
