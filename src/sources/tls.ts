// The PEM files of a network source's `tls:` (http, syslog), read and tried once at build, so a
// missing or mismatched file fails the start with a message that names the key.

import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { VesError } from '../errors.js';

export interface ServerTlsFiles {
  cert_file: string;
  key_file: string;
}

/** The certificate and key of `sources.<id>.tls`; VES_SOURCE_TLS when they cannot be used. */
export async function readServerTls(
  id: string,
  files: ServerTlsFiles,
): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (key: keyof ServerTlsFiles): Promise<Buffer> => {
    try {
      return await readFile(files[key]);
    } catch (err) {
      throw new VesError(
        'VES_SOURCE_TLS',
        `sources.${id}.tls: cannot read tls.${key} ${files[key]}: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
  };
  const cert = await read('cert_file');
  const key = await read('key_file');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new VesError(
      'VES_SOURCE_TLS',
      `sources.${id}.tls: the certificate or key is not usable (a PEM certificate and its matching private key expected): ${(err as Error).message}`,
      undefined,
      { cause: err },
    );
  }
  return { cert, key };
}
