// The top-level config schema: data_dir, sources, transforms, batch, sinks, api and timings,
// plus the seed's flat shorthand keys (watch_path, batch_size, ship_url) mapped onto them.

import { hostname } from 'node:os';
import { isScalar, isSeq } from 'yaml';
import { compileParser } from '../parsers/index.js';
import { sinkSchema } from '../sinks/index.js';
import { sourceSchema } from '../sources/index.js';
import { transformList as transforms } from '../transforms/index.js';
import {
  array,
  bool,
  bytes,
  computed,
  custom,
  duration,
  hostPort,
  int,
  isNull,
  map,
  object,
  optional,
  refine,
  string,
  synthesize,
  type At,
  type Schema,
} from './schema.js';
import type { AgentConfig } from './types.js';

/** A thread count; 64: more parse threads than cores only adds memory, and few hosts have more. */
const workerCount = int({ min: 0, max: 64, doc: 'Parse worker threads.' });
const workerWord = string({ doc: 'auto' });

/** `workers: auto | <int>` (pipeline/dispatch.ts explains auto). */
const workers = custom<'auto' | number>(
  'auto | integer (min 0, max 64)',
  'Parse worker threads. `auto`: parse on the main thread while it keeps up (a quiet host stays ' +
    'one small thread), start cores-1 workers (at least 1) when it is over 80% busy, go back ' +
    'after a quiet minute. `0`: always on the main thread. `N`: N workers from the start.',
  { value: () => 'auto', text: 'auto' },
  (at: At): 'auto' | number => {
    // `auto`, or `${VES_WORKERS:-auto}`: text that reads auto once interpolated.
    if (isScalar(at.node) && typeof at.node.value === 'string') {
      if (workerWord.decode(at).trim() === 'auto') return 'auto';
    }
    return workerCount.decode(at);
  },
);

const shape = object(
  {
    data_dir: string({
      default: './data',
      doc: 'Checkpoints and disk buffers. Relative to the working directory, not to the config file.',
    }),
    sources: map(sourceSchema, { what: 'source', doc: 'Named inputs; at least one.' }),
    transforms,
    batch: object(
      {
        max_events: int({ default: 1000, min: 1, doc: 'Seal a batch at this many events.' }),
        max_bytes: bytes({
          default: '1MiB', // a batch fits comfortably in one HTTP request and in L2-sized copies
          min: 1,
          doc: 'Seal a batch at this size (of its largest encoding).',
        }),
        timeout: duration({
          default: '5ms', // the latency bound of a quiet source (DESIGN.md: p99 handoff < 1 ms busy)
          doc: 'Seal a batch this long after its first event.',
        }),
        adaptive: bool({
          // true: a quiet host ships each line at once instead of after `timeout`; a busy one
          // still fills max_events (engine/batcher.ts)
          default: true,
          doc:
            'Seal by the observed rate instead of waiting: chunks that arrive about once per ' +
            '`timeout` or less often ship at once; more frequent ones are gathered up to about ' +
            'half of what arrives per `timeout` (between 1 event and max_events). A quiet host ' +
            'ships each line within milliseconds, a busy one ships full batches. false: seal ' +
            'only at max_events, max_bytes or timeout.',
        }),
      },
      {
        doc: 'A batch is sealed at max_events, max_bytes or timeout, whichever comes first.',
        removed: {
          max_size: 'use max_bytes, with a unit (e.g. `max_bytes: 1MiB`)',
          timeout_ms: 'use timeout, with a unit (e.g. `timeout: 5ms`)',
        },
      },
    ),
    workers,
    sinks: map(sinkSchema, {
      what: 'sink',
      doc: 'Named outputs; at least one. Each gets every batch.',
    }),
    api: object(
      {
        enabled: bool({ default: false, doc: 'Serve /metrics, /health, /stats and /ui.' }),
        address: string({
          default: '127.0.0.1:8686', // loopback: the admin API has no auth
          check: hostPort('127.0.0.1:8686'),
          doc: 'host:port the admin API listens on.',
        }),
      },
      { doc: 'The admin API.' },
    ),
    shutdown_timeout: duration({
      default: '10s', // below the 30 s systemd and Kubernetes give before SIGKILL
      doc: 'A graceful stop (SIGTERM/SIGINT) must flush and checkpoint within this.',
    }),
    checkpoint_interval: duration({
      default: '1s', // at most 1 s of re-sent lines after a crash, ~1 small fsync per second
      min: '10ms',
      doc: 'How often acknowledged positions are written to data_dir.',
    }),
    host: computed(
      string({ doc: 'Added to every event as `host`.' }),
      () => hostname(),
      'os.hostname()',
    ),
    // The seed's flat keys, kept as shorthand. Each maps onto exactly one long-form key.
    watch_path: optional(
      array(string({ doc: 'A glob pattern.' }), {
        single: true,
        doc: 'Shorthand for `sources.main: {type: file, include: <watch_path>}`.',
      }),
    ),
    batch_size: optional(int({ min: 1, doc: 'Shorthand for `batch.max_events`.' })),
    ship_url: optional(
      string({ doc: 'Shorthand for `sinks.ship: {type: http, uri: <ship_url>, format: ndjson}`.' }),
    ),
  },
  { doc: 'The agent config.' },
);

export const agentSchema: Schema<AgentConfig> = refine(shape, (decoded, at) => {
  const { watch_path, batch_size, ship_url, ...config } = decoded;
  const both = (short: string, long: string): never => {
    const message = `is shorthand for \`${long}\`, which is set too: keep one of them`;
    return at.child(short).fail('VES_CONFIG_INVALID', message, true);
  };
  if (watch_path !== undefined) {
    if (Object.hasOwn(config.sources, 'main')) both('watch_path', 'sources.main');
    const value = { type: 'file', include: watch_path };
    const main = sourceSchema.decode(synthesize(at.child('watch_path'), 'sources.main', value));
    config.sources = { main, ...config.sources };
  }
  if (batch_size !== undefined) {
    if (!isNull(at.child('batch').child('max_events').node)) both('batch_size', 'batch.max_events');
    config.batch.max_events = batch_size;
  }
  if (ship_url !== undefined) {
    const key = at.child('ship_url');
    if (Object.hasOwn(config.sinks, 'ship')) both('ship_url', 'sinks.ship');
    const value = { type: 'http', uri: ship_url, format: 'ndjson' };
    const ship = sinkSchema.decode(synthesize(key, 'sinks.ship', value));
    config.sinks = { ship, ...config.sinks };
  }
  if (Object.keys(config.sources).length === 0) {
    at.child('sources').fail('VES_CONFIG_INVALID', 'no sources: add at least one', true);
  }
  config.transforms.forEach((t, i) => {
    // A transform naming a source that does not exist is a typo, not "applies to nothing".
    for (const [k, s] of t.sources.entries()) {
      if (Object.hasOwn(config.sources, s)) continue;
      const item = at.child('transforms').item(i, transformNode(at, i));
      item
        .child('sources')
        .item(k, sourceNode(item, k))
        .fail(
          'VES_CONFIG_INVALID',
          `no source is named "${s}" (sources: ${Object.keys(config.sources).join(', ')})`,
        );
    }
  });
  checkEnrichFields(config, at);
  if (Object.keys(config.sinks).length === 0) {
    at.child('sinks').fail('VES_CONFIG_INVALID', 'no sinks: add at least one', true);
  }
  return config;
});

/**
 * An enrich field that its source's parser writes too would be a duplicate JSON key. The
 * transform stage refuses it at start-up as well; checked here so the message has line:col.
 */
function checkEnrichFields(config: AgentConfig, at: At): void {
  config.transforms.forEach((t, i) => {
    if (t.type !== 'enrich') return;
    const applies = t.sources.length > 0 ? t.sources : Object.keys(config.sources);
    for (const id of applies) {
      const sc = config.sources[id];
      if (!sc) continue; // reported above
      const parser = compileParser(sc.parser, { templates: sc.templates ?? [], reserved: [] });
      for (const part of ['fields', 'env'] as const) {
        for (const k of Object.keys(t[part])) {
          if (!parser?.fieldNames?.includes(k)) continue;
          const item = at.child('transforms').item(i, transformNode(at, i));
          item
            .child(part)
            .child(k)
            .fail(
              'VES_CONFIG_INVALID',
              `the ${sc.parser} parser of source ${id} writes a field "${k}" too; rename it (duplicate keys are read differently by every consumer)`,
              true,
            );
        }
      }
    }
  });
}

/** The node of transforms[i], for messages with line:col. */
function transformNode(at: At, i: number): unknown {
  const list = at.child('transforms').node;
  return isSeq(list) ? list.items[i] : null;
}

/** The node of sources[k] of a transform (a list, or one string). */
function sourceNode(item: At, k: number): unknown {
  const n = item.child('sources').node;
  return isSeq(n) ? n.items[k] : n;
}
