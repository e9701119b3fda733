// Each format's request: path, content type and body shape (clickhouse query string, Loki
// streams grouped by labels, Elasticsearch bulk lines with per-item results, OTLP JSON), first
// through the encoders, then end to end against the receiver.

import { afterEach, describe, expect, test } from 'vitest';
import { SinkRejectedError } from '../../../src/errors.js';
import { eventTimeMs } from '../../../src/sinks/http/formats/events.js';
import { indexName } from '../../../src/sinks/http/formats/elasticsearch.js';
import { makeFormat } from '../../../src/sinks/http/formats/index.js';
import { anyValue, severityNumber } from '../../../src/sinks/http/formats/otlp.js';
import { httpConfig, missing, seqBatch, sinkFor } from './helpers.js';
import { startReceiver, type Receiver } from './receiver.js';

let rx: Receiver | undefined;
afterEach(async () => {
  await rx?.close();
  rx = undefined;
});

const lines = (...events: object[]): Buffer =>
  Buffer.from(events.map((e) => JSON.stringify(e) + '\n').join(''));

describe('ndjson', () => {
  test('the batch bytes as they are, to the uri as it is', () => {
    const f = makeFormat(httpConfig({ uri: 'http://h:1/v1/logs?x=1' }));
    const b = lines({ a: 1 }, { b: 2 });
    expect(f.encode(b)).toBe(b);
    expect(f.path).toBe('/v1/logs?x=1');
    expect(f.contentType).toBe('application/x-ndjson');
  });
});

describe('clickhouse', () => {
  test('INSERT ... FORMAT JSONEachRow in the query string, the NDJSON body unchanged', () => {
    const f = makeFormat(
      httpConfig({ uri: 'http://h:8123', format: 'clickhouse', clickhouse: { table: 'logs' } }),
    );
    const url = new URL(f.path, 'http://h');
    expect(url.pathname).toBe('/');
    expect(url.searchParams.get('query')).toBe('INSERT INTO `default`.`logs` FORMAT JSONEachRow');
    expect(url.searchParams.get('input_format_skip_unknown_fields')).toBe('1');
    expect(url.searchParams.get('date_time_input_format')).toBe('best_effort');
    expect(f.path).toContain('query=INSERT%20INTO%20'); // %20, never `+`
    const b = lines({ a: 1 });
    expect(f.encode(b)).toBe(b);
    expect(f.probe).toEqual({ method: 'GET', path: '/ping', anyAnswer: false });
  });

  test('database, options off, and a query string of the uri kept', () => {
    const f = makeFormat(
      httpConfig({
        uri: 'http://h:8123/?async_insert=1',
        format: 'clickhouse',
        clickhouse: {
          database: 'web',
          table: 'access',
          skip_unknown_fields: false,
          date_time_best_effort: false,
        },
      }),
    );
    const url = new URL(f.path, 'http://h');
    expect([...url.searchParams.keys()]).toEqual(['async_insert', 'query']);
    expect(url.searchParams.get('query')).toBe('INSERT INTO `web`.`access` FORMAT JSONEachRow');
  });

  test.each<[number, string, boolean]>([
    [500, 'Code: 27, e.displayText() = DB::Exception: Cannot parse input', true],
    [500, 'Code: 117, e.displayText() = DB::Exception: Unknown field found', true],
    [500, 'Code: 241, e.displayText() = DB::Exception: Memory limit exceeded', false],
    [503, 'Code: 27, ...', true],
    [502, '<html>bad gateway</html>', false],
  ])('%i %j refused for good: %s', (status, body, final) => {
    const f = makeFormat(
      httpConfig({ uri: 'http://h:8123', format: 'clickhouse', clickhouse: { table: 't' } }),
    );
    expect(f.refusedForGood?.(status, body)).toBe(final);
  });

  test('a parse error (500) rejects the batch for good; a memory error is retried', async () => {
    rx = await startReceiver();
    const sink = await sinkFor({
      uri: rx.url,
      format: 'clickhouse',
      clickhouse: { table: 't' },
      retry: { initial_backoff: '1ms', max_backoff: '2ms' },
    });
    rx.inject({ kind: 'status', status: 500, body: 'Code: 241, Memory limit exceeded' }, 1);
    await sink.write(seqBatch(0, 2));
    rx.inject({ kind: 'status', status: 500, body: 'Code: 27, Cannot parse input' }, 1);
    const err = (await sink.write(seqBatch(2, 2)).catch((e: unknown) => e)) as SinkRejectedError;
    await sink.close();
    expect(err).toBeInstanceOf(SinkRejectedError);
    expect(err.status).toBe(500);
    expect(err.detail).toBe('Code: 27, Cannot parse input');
    expect(rx.accepted.at(-1)?.headers['content-encoding']).toBe('gzip'); // clickhouse default
  });
});

describe('loki', () => {
  const cfg = (labels?: object) =>
    httpConfig({ uri: 'http://h:3100', format: 'loki', ...(labels ? { loki: { labels } } : {}) });

  test('events grouped into streams by their label values; values are [ns, line]', () => {
    const f = makeFormat(cfg({ host: '{host}', app: '{service}', env: 'prod' }));
    expect(f.path).toBe('/loki/api/v1/push');
    expect(f.contentType).toBe('application/json');
    const evs = [
      { message: 'a', timestamp: '2026-11-23T12:00:00.123Z', host: 'h1', service: 'web' },
      { message: 'b', timestamp: '2026-11-23T12:00:01.000Z', host: 'h2', service: 'web' },
      { message: 'c', timestamp: '2026-11-23T12:00:02.000Z', host: 'h1', service: 'web' },
      { message: 'd', timestamp: '2026-11-23T12:00:03.000Z', host: 'h1', service: 7 },
      { message: 'e', timestamp: '2026-11-23T12:00:04.000Z' },
    ];
    const body = JSON.parse(f.encode(lines(...evs)).toString());
    expect(body.streams).toEqual([
      {
        stream: { host: 'h1', app: 'web', env: 'prod' },
        values: [
          ['1795435200123000000', JSON.stringify(evs[0])],
          ['1795435202000000000', JSON.stringify(evs[2])],
        ],
      },
      {
        stream: { host: 'h2', app: 'web', env: 'prod' },
        values: [['1795435201000000000', JSON.stringify(evs[1])]],
      },
      {
        stream: { host: 'h1', app: '7', env: 'prod' },
        values: [['1795435203000000000', JSON.stringify(evs[3])]],
      },
      // A missing field leaves its label out.
      { stream: { env: 'prod' }, values: [['1795435204000000000', JSON.stringify(evs[4])]] },
    ]);
  });

  test('default labels host and source; an event with neither gets job=ves-log-collector', () => {
    const f = makeFormat(cfg());
    const body = JSON.parse(
      f.encode(lines({ message: 'x', host: 'h', source: '/a.log' }, { m: 1 })).toString(),
    );
    expect(body.streams.map((s: { stream: object }) => s.stream)).toEqual([
      { host: 'h', source: '/a.log' },
      { job: 'ves-log-collector' },
    ]);
  });

  test('end to end: gzip by default, every event in some stream', async () => {
    rx = await startReceiver();
    rx.respond = () => ({ status: 204 });
    const sink = await sinkFor({ uri: rx.url, format: 'loki' });
    await sink.write(seqBatch(0, 20));
    await sink.close();
    const r = rx.accepted.at(-1)!;
    expect(r.url).toBe('/loki/api/v1/push');
    expect(r.headers['content-encoding']).toBe('gzip');
    const body = JSON.parse(r.body.toString());
    expect(body.streams).toHaveLength(1);
    expect(body.streams[0].stream).toEqual({ host: 'edge-1', source: '/var/log/app.log' });
    // The lines are JSON text inside the JSON body: read them back.
    const seqs = (body.streams[0].values as string[][]).map((v) => JSON.parse(v[1]).seq as number);
    expect(missing(seqs, 20)).toEqual([]);
  });
});

describe('elasticsearch', () => {
  test('one create action per event, index named from the event date', () => {
    const f = makeFormat(
      httpConfig({
        uri: 'http://es:9200',
        format: 'elasticsearch',
        elasticsearch: { index: 'logs-%Y.%m.%d' },
      }),
    );
    expect(f.path).toBe('/_bulk?filter_path=errors,items.*.status,items.*.error');
    const evs = [
      { message: 'a', timestamp: '2026-11-23T23:59:59.999Z' },
      { message: 'b', timestamp: '2026-11-24T00:00:00.000Z' },
    ];
    expect(f.encode(lines(...evs)).toString()).toBe(
      '{"create":{"_index":"logs-2026.11.23"}}\n' +
        JSON.stringify(evs[0]) +
        '\n{"create":{"_index":"logs-2026.11.24"}}\n' +
        JSON.stringify(evs[1]) +
        '\n',
    );
  });

  test('the uri may already end in /_bulk; a static index needs no parsing', () => {
    const f = makeFormat(
      httpConfig({
        uri: 'http://es:9200/prefix/_bulk',
        format: 'elasticsearch',
        elasticsearch: { index: 'static' },
      }),
    );
    expect(f.path.startsWith('/prefix/_bulk?')).toBe(true);
    expect(f.probe.path).toBe('/prefix/');
    expect(f.encode(Buffer.from('not json\n')).toString()).toBe(
      '{"create":{"_index":"static"}}\nnot json\n',
    );
  });

  test('per-item results: 429/5xx items are sent again, 4xx items rejected for good', async () => {
    rx = await startReceiver();
    let call = 0;
    rx.respond = (r) => {
      const docs = r.body
        .toString()
        .trim()
        .split('\n')
        .filter((_, i) => i % 2 === 1);
      call++;
      if (call === 1) {
        // 5 events: #1 throttled, #3 a mapping error, #4 a shard failure.
        const items = docs.map((_, i) => ({
          create:
            i === 1
              ? {
                  status: 429,
                  error: { type: 'es_rejected_execution_exception', reason: 'queue full' },
                }
              : i === 3
                ? {
                    status: 400,
                    error: {
                      type: 'mapper_parsing_exception',
                      reason: 'failed to parse field [seq]',
                    },
                  }
                : i === 4
                  ? { status: 503, error: { type: 'unavailable_shards_exception', reason: 'x' } }
                  : { status: 201 },
        }));
        return { status: 200, body: JSON.stringify({ errors: true, items }) };
      }
      return {
        status: 200,
        body: JSON.stringify({
          errors: false,
          items: docs.map(() => ({ create: { status: 201 } })),
        }),
      };
    };
    const sink = await sinkFor({
      uri: rx.url,
      format: 'elasticsearch',
      healthcheck: false,
      retry: { initial_backoff: '1ms', max_backoff: '2ms' },
    });
    const batch = seqBatch(0, 5);
    const err = (await sink.write(batch).catch((e: unknown) => e)) as SinkRejectedError;
    await sink.close();
    expect(rx.all).toHaveLength(2);
    // The second request carried only the two retryable events.
    const second = rx.all[1].body.toString().trim().split('\n');
    expect(second).toHaveLength(4);
    expect(second[1]).toContain('"seq":1}');
    expect(second[3]).toContain('"seq":4}');
    expect(err).toBeInstanceOf(SinkRejectedError);
    expect(err.events).toBe(1);
    expect(err.status).toBe(400);
    expect(err.detail).toBe('mapper_parsing_exception: failed to parse field [seq]');
    expect(err.rejected.toString()).toBe(batch.ndjson!.toString().split('\n')[3] + '\n');
    expect(err.message).toContain('refused 1 of 5 events for good');
    expect(sink.stats).toMatchObject({ requests: 2, retries: 1, rejected: 1 });
  });
});

describe('otlp', () => {
  test('resourceLogs per (host, service), severity from level, body = message', () => {
    const f = makeFormat(httpConfig({ uri: 'http://otel:4318', format: 'otlp' }));
    expect(f.path).toBe('/v1/logs');
    const body = JSON.parse(
      f
        .encode(
          lines(
            {
              message: 'GET /',
              timestamp: '2026-11-23T12:00:00.000Z',
              host: 'h1',
              service: 'web',
              level: 'warn',
              status: 200,
              ratio: 0.5,
              ok: true,
              source: '/var/log/a.log',
              tags: ['a'],
              req: { id: 'x' },
            },
            { message: 'later', host: 'h1', service: 'web', level: 30 },
            { message: 'other', host: 'h2' },
          ),
        )
        .toString(),
    );
    expect(body.resourceLogs).toHaveLength(2);
    const [first, second] = body.resourceLogs;
    expect(first.resource.attributes).toEqual([
      { key: 'host.name', value: { stringValue: 'h1' } },
      { key: 'service.name', value: { stringValue: 'web' } },
    ]);
    expect(second.resource.attributes).toEqual([
      { key: 'host.name', value: { stringValue: 'h2' } },
    ]);
    expect(first.scopeLogs[0].scope.name).toBe('ves-log-collector');
    const [r0, r1] = first.scopeLogs[0].logRecords;
    expect(r0).toMatchObject({
      timeUnixNano: '1795435200000000000',
      severityNumber: 13,
      severityText: 'warn',
      body: { stringValue: 'GET /' },
    });
    expect(r0.observedTimeUnixNano).toMatch(/^\d+$/);
    expect(r0.attributes).toEqual([
      { key: 'status', value: { intValue: '200' } },
      { key: 'ratio', value: { doubleValue: 0.5 } },
      { key: 'ok', value: { boolValue: true } },
      { key: 'log.file.path', value: { stringValue: '/var/log/a.log' } },
      { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }] } } },
      {
        key: 'req',
        value: { kvlistValue: { values: [{ key: 'id', value: { stringValue: 'x' } }] } },
      },
    ]);
    expect(r1).toMatchObject({
      severityNumber: 9,
      severityText: '30',
      body: { stringValue: 'later' },
    });
    expect(second.scopeLogs[0].logRecords[0].severityNumber).toBeUndefined();
  });

  test.each<[unknown, number]>([
    ['TRACE', 1],
    ['debug', 5],
    ['info', 9],
    ['notice', 10],
    ['Warning', 13],
    ['error', 17],
    ['fatal', 21],
    ['crit', 22],
    ['emerg', 24],
    ['verbose', 0],
    [10, 1],
    [50, 17],
    [60, 21],
    [3, 17], // syslog err
    [45, 0],
    [true, 0],
  ])('level %j -> severityNumber %i', (level, n) => {
    expect(severityNumber(level)).toBe(n);
  });

  test('partialSuccess: the dropped records are counted, the write succeeds', async () => {
    rx = await startReceiver();
    rx.respond = () => ({
      status: 200,
      body: JSON.stringify({
        partialSuccess: { rejectedLogRecords: '2', errorMessage: 'too old' },
      }),
    });
    const sink = await sinkFor({ uri: rx.url, format: 'otlp', healthcheck: false });
    await sink.write(seqBatch(0, 5));
    await sink.close();
    expect(sink.stats.rejected).toBe(2);
    expect(rx.accepted[0].url).toBe('/v1/logs');
    expect(rx.accepted[0].headers['content-type']).toBe('application/json');
  });

  test.each([
    [500, true],
    [501, true],
    [502, false],
    [503, false],
    [504, false],
  ])('status %i is final per the OTLP spec: %s', (status, final) => {
    const f = makeFormat(httpConfig({ uri: 'http://otel:4318', format: 'otlp' }));
    expect(f.refusedForGood?.(status, '')).toBe(final);
  });
});

describe('helpers', () => {
  test.each<[unknown, number | undefined]>([
    ['2026-11-23T12:00:00.123Z', 1795435200123],
    [1795435200, 1795435200000],
    [1795435200.5, 1795435200500],
    [1795435200123, 1795435200123],
    [1795435200123456, 1795435200123],
    [1795435200123456789, 1795435200123],
    ['yesterday', undefined],
    [null, undefined],
    [-1, undefined],
  ])('eventTimeMs(%j) = %j', (v, ms) => {
    expect(eventTimeMs(v)).toBe(ms);
  });

  test('indexName', () => {
    expect(indexName('a-%Y.%m.%d-%H-%%', Date.UTC(2026, 0, 2, 3))).toBe('a-2026.01.02-03-%');
  });

  test('anyValue of null is an empty value', () => {
    expect(anyValue(null)).toEqual({});
  });
});
