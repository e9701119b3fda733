// Request body compression for the http sink, off the main thread: gzip on the libuv pool
// (zlib's async API), zstd in @mongodb-js/zstd's native async task (also the libuv pool).

import { promisify } from 'node:util';
import { gzip as gzipCb, type ZlibOptions } from 'node:zlib';
import { VesError } from '../../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';

const gzip = promisify<Buffer, ZlibOptions, Buffer>(gzipCb);

/**
 * Levels, measured here by CPU time on a 787 KB batch of NDJSON nginx events (node 20, EPYC):
 *   gzip 1: 10.2x at 215 MB/s;  gzip 3: 11.3x at 234 MB/s;  gzip 6: 13.2x at 113 MB/s
 *   zstd 1: 11.3x at 640 MB/s;  zstd 3 (the library default): 11.0x at 490 MB/s
 * gzip 3 as the file sink; zstd 1: on log lines it compresses as well as 3 for 3/4 of the CPU.
 */
const GZIP_LEVEL = 3;
const ZSTD_LEVEL = 1;

/** The Content-Encoding header for each, null for none. */
export const CONTENT_ENCODING: Record<Compression, string | null> = {
  none: null,
  gzip: 'gzip',
  zstd: 'zstd',
};

type ZstdCompress = (data: Buffer, level: number) => Promise<Buffer>;
let zstd: Promise<ZstdCompress> | undefined;

/**
 * Loads the native zstd module once, lazily: a config without zstd never loads it. The bundle
 * keeps it external (a .node file cannot be bundled): it resolves from node_modules next to dist/
 * (scripts/build.mjs).
 */
function loadZstd(): Promise<ZstdCompress> {
  // `bindings` (the package's native loader), not its index: 1.2.2's index.js drops the level
  // argument its own types declare. The version is pinned exactly in package.json.
  zstd ??= import('@mongodb-js/zstd/bindings.js').then(
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
  return (await loadZstd())(body, ZSTD_LEVEL);
}
