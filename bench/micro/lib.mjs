// Shared by bench/micro programs: bundle one TypeScript module on the fly with esbuild (a
// devDependency) into a temp dir and import it, so a bench needs no build step and always
// measures the current source.

import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** Imports `src/...ts` (a path relative to the repository root), bundled. */
export async function importTs(rel) {
  const dir = mkdtempSync(join(tmpdir(), 'ves-bench-'));
  try {
    await build({
      entryPoints: [join(root, rel)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: join(dir, 'bundle.mjs'),
      external: ['@mongodb-js/zstd'],
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'error',
    });
    return await import(pathToFileURL(join(dir, 'bundle.mjs')).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Best and median of `runs` timed calls of `fn` (after one warm-up), in nanoseconds. */
export function timeRuns(fn, runs) {
  fn();
  const ts = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    ts.push(Number(process.hrtime.bigint() - t0));
  }
  ts.sort((a, b) => a - b);
  return { best: ts[0], median: ts[ts.length >> 1] };
}
