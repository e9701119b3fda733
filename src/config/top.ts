// The top-level config schema: data_dir, sources, transforms, batch, sinks, api and timings,
// plus the seed's flat shorthand keys (watch_path, batch_size, ship_url) mapped onto them.

import { hostname } from 'node:os';
import { isSeq } from 'yaml';
import { hasSink, sinkSchema } from '../sinks/index.js';
import { sourceSchema } from '../sources/index.js';
import {
  array,
  bool,
  bytes,
  computed,
  custom,
  duration,
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

/** Only `[]` for now: the transform stage arrives with the fast-path issue. */
const transforms = custom(
  'list',
  'Ordered transforms (filter, enrich, ...): only `[]` until they arrive.',
  { value: () => [], text: '[]' },
  (at: At): unknown[] => {
    if (!isSeq(at.node)) at.fail('VES_CONFIG_TYPE', 'expected a list, e.g. []');
    if (at.node.items.length > 0) {
      at.item(0, at.node.items[0]).fail(
        'VES_CONFIG_INVALID',
        'transforms arrive in a later release: remove them (leave `transforms: []`)',
      );
    }
    return [];
  },
);

function hostPort(s: string): string | undefined {
  const colon = s.lastIndexOf(':');
  const port = Number(s.slice(colon + 1));
  const ok = colon > 0 && /^\d+$/.test(s.slice(colon + 1)) && port > 0 && port < 65536;
  return ok ? undefined : 'expected host:port, e.g. 127.0.0.1:8686';
}

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
      },
      {
        doc: 'A batch is sealed at max_events, max_bytes or timeout, whichever comes first.',
        removed: {
          max_size: 'use max_bytes, with a unit (e.g. `max_bytes: 1MiB`)',
          timeout_ms: 'use timeout, with a unit (e.g. `timeout: 5ms`)',
        },
      },
    ),
    sinks: map(sinkSchema, {
      what: 'sink',
      doc: 'Named outputs; at least one. Each gets every batch.',
    }),
    api: object(
      {
        enabled: bool({ default: false, doc: 'Serve /metrics, /health, /stats and /ui.' }),
        address: string({
          default: '127.0.0.1:8686', // loopback: the admin API has no auth
          check: hostPort,
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
    if (!hasSink('http')) {
      key.fail(
        'VES_CONFIG_INVALID',
        'the http sink it stands for arrives with the shipping release; ' +
          'meanwhile write to a file or stdout sink under `sinks:`',
        true,
      );
    }
    if (Object.hasOwn(config.sinks, 'ship')) both('ship_url', 'sinks.ship');
    const value = { type: 'http', uri: ship_url, format: 'ndjson' };
    const ship = sinkSchema.decode(synthesize(key, 'sinks.ship', value));
    config.sinks = { ship, ...config.sinks };
  }
  if (Object.keys(config.sources).length === 0) {
    at.child('sources').fail('VES_CONFIG_INVALID', 'no sources: add at least one', true);
  }
  if (Object.keys(config.sinks).length === 0) {
    at.child('sinks').fail('VES_CONFIG_INVALID', 'no sinks: add at least one', true);
  }
  return config;
});
