// Forwarded lines (an aggregator's http source, `forwarded: true`): each line is an agent's whole
// event, so its own source, host and timestamp are the event's, and the stage writes no source or
// host of its own. Static fields still apply: the line's key of the same name gets a `_`.

import { describe, expect, test } from 'vitest';
import { encode, NOW_ISO } from './helpers.js';

/** A line as an agent's http sink (format ndjson) sends it. */
const AGENT_LINE =
  '{"message":"GET / 200","timestamp":"2026-11-20T08:00:01.250Z","source":"/var/log/nginx/access.log","host":"edge-17","status":200}';

describe('json, forwarded', () => {
  test('the line’s source, host and timestamp are the event’s, byte for byte', () => {
    const { ndjson } = encode('json', [AGENT_LINE], { forwarded: true });
    // The agent's event comes out as it went in: no second source or host, nothing renamed.
    expect(ndjson).toBe(AGENT_LINE + '\n');
  });

  test('a line without source or host gets none; one without timestamp the ingest time', () => {
    const { events } = encode('json', ['{"message":"m","a":1}'], { forwarded: true });
    expect(events).toStrictEqual([{ message: 'm', timestamp: NOW_ISO, a: 1 }]);
  });

  test('only host, only source: each kept, the other absent', () => {
    const { events } = encode('json', ['{"message":"a","host":"edge-1"}', '{"source":"/x.log"}'], {
      forwarded: true,
    });
    expect(events).toStrictEqual([
      { message: 'a', timestamp: NOW_ISO, host: 'edge-1' },
      { timestamp: NOW_ISO, source: '/x.log' },
    ]);
  });

  test('a timestamp with an offset is the event time in UTC, as for any json line', () => {
    const { events } = encode('json', ['{"timestamp":"2026-11-20T10:00:00+02:00","host":"e"}'], {
      forwarded: true,
    });
    expect(events[0]).toStrictEqual({ timestamp: '2026-11-20T08:00:00.000Z', host: 'e' });
  });

  test('the agent’s parse_error and truncated are kept as they are', () => {
    const line =
      '{"message":"not nginx","timestamp":"2026-11-20T08:00:01.250Z","source":"/a.log","host":"e","parse_error":true,"truncated":true}';
    const { ndjson, parseErrors } = encode('json', [line], { forwarded: true });
    expect(ndjson).toBe(line + '\n');
    expect(parseErrors).toBe(0); // the aggregator parsed it fine
  });

  test('static fields apply; the line’s key of the same name gets a `_`', () => {
    const { events, ndjson } = encode('json', [AGENT_LINE.replace('"status"', '"dc"')], {
      forwarded: true,
      fields: { dc: 'eu-1', tier: 2 },
    });
    expect(events[0]).toStrictEqual({
      message: 'GET / 200',
      timestamp: '2026-11-20T08:00:01.250Z',
      dc: 'eu-1',
      tier: 2,
      source: '/var/log/nginx/access.log',
      host: 'edge-17',
      _dc: 200,
    });
    expect(ndjson).toContain('"timestamp":"2026-11-20T08:00:01.250Z","dc":"eu-1","tier":2,');
  });

  test('chunks from other peers (paths) write no source either', () => {
    const { stage } = encode('json', [AGENT_LINE], { forwarded: true, fields: { dc: 'eu-1' } });
    for (const path of ['10.0.0.1', '10.0.0.2', '10.0.0.1']) {
      const buf = Buffer.from('{"message":"x","host":"edge-2"}\n');
      const block = stage.process(
        { sourceId: 's', path, buf, lines: 1, truncated: false, mark: null, readAt: 0 },
        { ndjson: true, raw: false },
      );
      expect(block.ndjson!.toString()).toBe(
        `{"message":"x","timestamp":"${NOW_ISO}","dc":"eu-1","host":"edge-2"}\n`,
      );
    }
  });

  test('a line that is not JSON is kept whole with parse_error, without source or host', () => {
    const { events, parseErrors } = encode('json', ['not json'], { forwarded: true });
    expect(events).toStrictEqual([{ message: 'not json', timestamp: NOW_ISO, parse_error: true }]);
    expect(parseErrors).toBe(1);
  });

  test('not forwarded (a file source): the same line’s source and host get a `_`', () => {
    const { events } = encode('json', [AGENT_LINE]);
    expect(events[0]).toMatchObject({
      source: '/var/log/test.log',
      host: 'h1',
      _source: '/var/log/nginx/access.log',
      _host: 'edge-17',
      timestamp: '2026-11-20T08:00:01.250Z',
    });
  });
});
