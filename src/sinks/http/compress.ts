// Request body compression for the http sink, off the main thread: gzip on the libuv pool
// (zlib's async API), zstd in @mongodb-js/zstd's native async task (also the libuv pool).

import { promisify } from 'node:util';
import { gzip as gzipCb, type ZlibOptions } from 'node:zlib';
import { VesError } from '../../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';

const gzip = promisify<Buffer, ZlibOptions, Buffer>(gzipCb);

/**
 * gzip level 3, as the file sink: measured here on a 1.3 MB batch of NDJSON nginx events,
 * level 1 gives 10.3x at ~116 MB/s, level 3 11.4x at ~125 MB/s, level 6 barely more for half
 * the speed. zstd runs at the library's default level 3 (11.0x at ~230 MB/s on the same batch;
 * level 6 was 13.1x at 27 MB/s): its wrapper takes no level, and 3 is the right one anyway.
 */
const GZIP_LEVEL = 3;

/** The Content-Encoding header for each, null for none. */
export const CONTENT_ENCODING: Record<Compression, string | null> = {
  none: null,
  gzip: 'gzip',
  zstd: 'zstd',
};

type ZstdCompress = (data: Buffer) => Promise<Buffer>;
let zstd: Promise<ZstdCompress> | undefined;

/**
 * Loads the native zstd module once, lazily: a config without zstd never loads it. The bundle
 * keeps it external (a .node file cannot be bundled): it resolves from node_modules next to dist/.
 */
function loadZstd(): Promise<ZstdCompress> {
  zstd ??= import('@mongodb-js/zstd').then(
    (m) => m.compress as ZstdCompress,
    (err: Error) => {
      zstd = undefined;
      throw new VesError(
        'VES_SINK_WRITE',
        `cannot load @mongodb-js/zstd for compression: zstd (${err.message}); reinstall the agent with npm, or use compression: gzip`,
        undefined,
        { cause: err },
      );
    },
  );
  return zstd;
}

/** Resolves once the compressor can run: called at build, so a broken install fails at start. */
export async function prepare(kind: Compression): Promise<void> {
  if (kind === 'zstd') await loadZstd();
}

export async function compress(kind: Compression, body: Buffer): Promise<Buffer> {
  if (kind === 'none') return body;
  if (kind === 'gzip') return gzip(body, { level: GZIP_LEVEL });
  return (await loadZstd())(body);
}
