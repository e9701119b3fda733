// Config schema of the `syslog` source: where it listens (TCP, TLS or UDP) and its bounds per
// connection and per message. build() in ./source.ts receives the decoded SyslogSourceConfig.

import {
  bytes,
  duration,
  hostPort,
  int,
  nullable,
  object,
  oneOf,
  refine,
  string,
  type At,
  type Schema,
} from '../../config/schema.js';
import type { SyslogSourceConfig } from '../../config/types.js';
import { checkParser, keepMessage, parserKey, staticFields, templates } from '../shared-config.js';

const tls = nullable(
  object(
    {
      cert_file: string({ doc: 'PEM file with the server certificate (and its chain).' }),
      key_file: string({ doc: 'PEM file with the private key of `cert_file`.' }),
    },
    { doc: 'mode: tcp only. Serve syslog over TLS (RFC 5425) with these files; null: plain TCP.' },
  ),
);

/** Keys that mean something for mode: tcp only; set with mode: udp, they are an error. */
const TCP_ONLY = ['max_connections', 'connection_idle_timeout', 'tls'] as const;

export const schema: Schema<SyslogSourceConfig> = refine(
  object(
    {
      type: oneOf(['syslog'], { doc: 'Receives syslog messages over TCP, TLS or UDP.' }),
      mode: oneOf(['tcp', 'udp'], {
        default: 'tcp', // TCP has backpressure and loses nothing; UDP drops when the agent is behind
        doc: 'tcp: RFC 6587 framing (octet counting or LF, detected per message), TLS with `tls`; udp: one datagram, one message. For both on one port, declare two sources.',
      }),
      address: string({
        default: '127.0.0.1:5514', // loopback and an unprivileged port: opening it up is a choice
        check: hostPort('127.0.0.1:5514'),
        doc: 'host:port to listen on (`0.0.0.0:514` for every interface; port 0: a free one, logged).',
      }),
      max_frame_bytes: bytes({
        default: '64KiB', // rsyslog's and Vector's default: bounds what one message can hold
        min: 1,
        max: '16MiB', // bounds the memory one connection can pin
        doc: 'Longer messages (and datagrams) are cut here and flagged `truncated`; the rest of the frame is skipped.',
      }),
      max_connections: int({
        default: 1024, // a fleet's worth of relays; each idle connection costs ~10 KiB
        min: 1,
        doc: 'mode: tcp. Connections at once; further ones are closed at once and logged (VES_SOURCE_LIMIT).',
      }),
      connection_idle_timeout: duration({
        default: '0s', // like rsyslog and syslog-ng: senders keep connections open between bursts
        doc: 'mode: tcp. A connection that sends nothing for this long is closed (its complete messages are kept); 0s: never. Dead peers are found by TCP keep-alive either way.',
      }),
      tls,
      parser: parserKey('syslog'),
      templates,
      keep_message: keepMessage,
      fields: staticFields,
    },
    { doc: 'Receives syslog messages (RFC 5424, RFC 3164) over TCP, TLS or UDP.' },
  ),
  (config, at: At) => {
    if (config.mode === 'udp') {
      for (const key of TCP_ONLY) {
        const c = at.child(key);
        if (c.node !== null && (key !== 'tls' || config.tls !== null)) {
          c.fail('VES_CONFIG_INVALID', 'is only used with mode: tcp; remove it', true);
        }
      }
    }
    return checkParser(config, at);
  },
);
