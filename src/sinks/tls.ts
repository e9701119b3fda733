// TLS options shared by the network sinks (http, redis): the `tls` schema, and the files it
// names read and checked at start-up, so a bad file fails the start rather than each request.

import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { bool, nullable, object, string, type Schema } from '../config/schema.js';
import type { TlsConfig } from '../config/types.js';
import { VesError } from '../errors.js';

/** The `tls` key of a sink; `doc` says which URLs it applies to. */
export function tlsSchema(doc: string): Schema<TlsConfig> {
  return object(
    {
      ca: nullable(string({ doc: 'PEM file of the CA(s) to trust instead of the system ones.' })),
      cert: nullable(
        string({ doc: 'PEM file of a client certificate (mutual TLS); needs `key`.' }),
      ),
      key: nullable(string({ doc: 'PEM file of the client certificate’s private key.' })),
      verify: bool({
        default: true,
        doc: 'Verify the server certificate and name. Turn off only for tests: anyone on the path can read and change the data.',
      }),
    },
    { doc },
  );
}

/** The contents of tls.ca/cert/key (absent when not set). */
export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Reads tls.ca/cert/key and checks them now, so a bad file fails the start, not each request. */
export async function readTlsFiles(tls: TlsConfig, id: string): Promise<TlsFiles> {
  const out: TlsFiles = {};
  for (const k of ['ca', 'cert', 'key'] as const) {
    const path = tls[k];
    if (path === null) continue;
    try {
      out[k] = await readFile(path);
    } catch (err) {
      throw new VesError(
        'VES_SINK_TLS',
        `sink ${id}: cannot read tls.${k} ${path}: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
  }
  // createSecureContext takes a file with no PEM block in it as "no certificates": say so.
  for (const [k, marker] of [
    ['ca', '-----BEGIN CERTIFICATE-----'],
    ['cert', '-----BEGIN CERTIFICATE-----'],
    ['key', 'PRIVATE KEY-----'],
  ] as const) {
    const pem = out[k];
    if (pem !== undefined && !pem.includes(marker)) {
      throw new VesError(
        'VES_SINK_TLS',
        `sink ${id}: tls files are not usable: tls.${k} ${tls[k]} holds no PEM ${k === 'key' ? 'private key' : 'certificate'}`,
      );
    }
  }
  if (out.ca || out.cert) {
    try {
      createSecureContext(out);
    } catch (err) {
      throw new VesError(
        'VES_SINK_TLS',
        `sink ${id}: tls files are not usable (PEM expected; cert and key must match): ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
  }
  return out;
}
