// Bundles a TypeScript entry into one CommonJS file with esbuild, for code that must run in a
// worker thread: Node cannot start a Worker on a .ts file, and the built dist/ may be stale while
// vitest runs the sources. One bundle per entry per test process (~100 ms each).

import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const built = new Map<string, Promise<string>>();
let dir: string | undefined;

/** Path of a .cjs bundle of `entry` (relative to the repo root), built once. */
export function bundleForWorker(entry: string): Promise<string> {
  let p = built.get(entry);
  if (p === undefined) {
    if (dir === undefined) {
      const d = (dir = mkdtempSync(join(tmpdir(), 'ves-bundle-')));
      process.once('exit', () => rmSync(d, { recursive: true, force: true }));
    }
    const outfile = join(dir, `${basename(entry, '.ts')}-${built.size}.cjs`);
    p = build({
      entryPoints: [resolve(entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20.19',
      define: { __VES_VERSION__: '"test"' },
      external: ['@mongodb-js/zstd'],
      logLevel: 'warning',
    }).then(() => outfile);
    built.set(entry, p);
  }
  return p;
}
