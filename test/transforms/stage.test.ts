// The transform stage: transforms apply in the order listed, to the sources they name, and a
// later transform sees an earlier enrich's fields.

import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { Counters } from '../../src/observe/counters.js';
import { Processor } from '../../src/pipeline/process.js';
import { chainOf, chunk, config, ndjson } from './helpers.js';

const clock = { now: 0 };
const lines = Array.from({ length: 10 }, (_, i) => `${i % 2 === 0 ? 'a' : 'b'}${i}`);

describe('order', () => {
  test('filter then sample differs from sample then filter', () => {
    const filter = '- {type: filter, condition: {field: message, prefix: a}}';
    const sample = '- {type: sample, rate: 2}';
    expect(chainOf(config('', `${filter}\n${sample}`), clock)(lines)).toEqual(['a0', 'a4', 'a8']);
    expect(chainOf(config('', `${sample}\n${filter}`), clock)(lines)).toEqual([
      'a0',
      'a2',
      'a4',
      'a6',
      'a8',
    ]);
  });

  test('a filter after an enrich sees its fields; before it, it does not', () => {
    const enrich = '- {type: enrich, fields: {env: prod}}';
    const drop = '- {type: filter, action: drop, condition: {field: env, equals: prod}}';
    expect(chainOf(config('', `${enrich}\n${drop}`), clock)(lines)).toEqual([]);
    expect(chainOf(config('', `${drop}\n${enrich}`), clock)(lines)).toEqual(lines);
  });

  test('each step sees only what the ones before it kept (counts add up)', () => {
    const counters = new Counters();
    const run = chainOf(
      config(
        '',
        `- {type: filter, name: only_a, condition: {field: message, prefix: a}}
- {type: sample, name: half, rate: 2}
- {type: throttle, name: two, events_per_second: 2}`,
      ),
      clock,
      counters,
    );
    expect(run(lines)).toEqual(['a0', 'a4']);
    expect(counters.transforms.get('only_a')?.dropped).toBe(5);
    expect(counters.transforms.get('half')?.dropped).toBe(2);
    expect(counters.transforms.get('two')?.dropped).toBe(1);
    expect(counters.transformDropped).toBe(8);
  });
});

describe('sources', () => {
  test('a transform applies only to the sources it names', () => {
    const cfg = parseConfig(
      `sources:
  web: {type: stdin}
  app: {type: stdin}
transforms:
  - {type: filter, sources: [web], condition: {field: message, prefix: a}}
  - {type: enrich, sources: app, fields: {team: app}}
sinks:
  out: {type: stdout}
`,
      'agent.yaml',
      {},
    );
    const p = new Processor(cfg, { ndjson: true, raw: false }, new Counters());
    const web = ndjson(p.process(chunk(lines, 'web')).ndjson!);
    const app = ndjson(p.process(chunk(lines, 'app')).ndjson!);
    expect(web.map((e) => e.message)).toEqual(['a0', 'a2', 'a4', 'a6', 'a8']);
    expect(web.every((e) => !('team' in e))).toBe(true);
    expect(app.map((e) => e.message)).toEqual(lines);
    expect(app.every((e) => e.team === 'app')).toBe(true);
  });
});

describe('multiline chunks (LineChunk.ends)', () => {
  test('a raw source filters whole events; the kept ones keep their lines together', () => {
    const cfg = config(
      '',
      '- {type: filter, action: drop, condition: {field: message, prefix: DEBUG}}',
    );
    const p = new Processor(cfg, { ndjson: true, raw: true }, new Counters());
    const events = ['ERROR a\n\tat x\r\n', 'DEBUG b\n\tat y\n', 'INFO c\n'];
    const buf = Buffer.from(events.join(''));
    const ends = Int32Array.from(events.map((_, k) => events.slice(0, k + 1).join('').length));
    const c = { ...chunk([], 'app'), buf, lines: 3, ends };
    const block = p.process(c);
    expect(ndjson(block.ndjson!).map((e) => e.message)).toEqual(['ERROR a\n\tat x', 'INFO c']);
    expect(block.events).toBe(2);
    expect(block.raw!.toString()).toBe('ERROR a\n\tat x\nINFO c\n');
  });
});
