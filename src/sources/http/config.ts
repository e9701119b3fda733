// Config schema of the `http` source: an aggregator's intake of what agents' http sinks send
// (`POST /v1/logs`, NDJSON, zstd or gzip). Bounds on bodies and requests in flight keep memory flat.

import {
  bool,
  bytes,
  duration,
  hostPort,
  int,
  nullable,
  object,
  oneOf,
  refine,
  string,
  type Schema,
} from '../../config/schema.js';
import type { HttpSourceConfig } from '../../config/types.js';
import { checkParser, keepMessage, staticFields } from '../shared-config.js';

const auth = nullable(
  object(
    {
      strategy: oneOf(['bearer'], {
        doc: '`bearer`: clients send `Authorization: Bearer <token>` (the http sink’s `auth` does).',
      }),
      token: string({ doc: 'The token clients must send, e.g. "${VES_TOKEN}". Never logged.' }),
    },
    { doc: 'null (no authentication), or {strategy: bearer, token}; 401 without it.' },
  ),
);

const tls = nullable(
  object(
    {
      cert_file: string({ doc: 'PEM file of the server certificate (and its chain).' }),
      key_file: string({ doc: 'PEM file of its private key.' }),
    },
    { doc: 'null (plain HTTP), or {cert_file, key_file} to serve HTTPS; read at start-up.' },
  ),
);

export const schema: Schema<HttpSourceConfig> = refine(
  object(
    {
      type: oneOf(['http'], { doc: 'Takes `POST /v1/logs` NDJSON bodies, e.g. from agents.' }),
      address: string({
        default: '127.0.0.1:8700', // loopback unless told: listening on every interface is a choice
        check: hostPort('127.0.0.1:8700'),
        doc: 'host:port to listen on; 0.0.0.0:8700 takes connections from other hosts.',
      }),
      auth,
      tls,
      max_body_bytes: bytes({
        default: '10MiB', // 10 default batches of an agent (batch.max_bytes 1MiB)
        min: 1,
        doc: 'A larger body, as sent or once decompressed, is refused with 413.',
      }),
      max_in_flight_requests: int({
        default: 64, // a fleet of agents with a few requests each in flight
        min: 1,
        doc: 'Requests being read or waiting for their acknowledgement; more are refused with 503 and Retry-After.',
      }),
      max_in_flight_bytes: bytes({
        default: '64MiB', // what waiting requests may hold, besides the pipeline's own bound
        min: 1,
        doc: 'Body bytes (as sent, then decompressed) those requests hold; a request that would cross it gets 503 and Retry-After, unread.',
      }),
      ack_timeout: duration({
        default: '20s', // below the http sink's 30s timeout: it gets a 503 to retry on, not a timeout
        min: '1ms',
        doc: 'A request is answered 200 once every sink acknowledged its events; past this it gets 503 (the client retries: at-least-once).',
      }),
      retry_after: duration({
        default: '1s',
        min: '1s',
        doc: 'The Retry-After of a 503 (whole seconds).',
      }),
      parser: oneOf(['json', 'raw'], {
        default: 'json',
        doc: 'json lifts each object’s fields into the event (docs/parsers.md); raw keeps each line whole as `message`.',
      }),
      keep_message: keepMessage,
      forwarded: bool({
        default: true, // what agents send are whole events: the aggregator passes them on
        doc: 'With parser json: each line is an agent’s event, whose own `source`, `host`, `parse_error` and `truncated` are kept as they are (a line without them gets none); false: the aggregator writes its own `source` (the peer’s IP) and `host`, and the line’s become `_source`, `_host`.',
      }),
      fields: staticFields,
    },
    {
      doc: 'Takes NDJSON over HTTP (`POST /v1/logs`), answered once every sink acknowledged it.',
    },
  ),
  checkParser,
);
