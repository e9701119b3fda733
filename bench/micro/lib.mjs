// Shared by bench/micro programs: bundle TypeScript modules on the fly with esbuild (a
// devDependency) and import them, so a bench needs no build step and always measures the current
// source; and a timing loop.

import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Bundles and imports the named exports of TypeScript modules: `exports` pairs a path relative
 * to the repository root with the export list (`'a, b as c'`, or `'*'` for all of them).
 * `format: 'cjs'` for a dependency that does require('process'), which an ESM bundle cannot.
 */
export async function importModules(exports, { format = 'esm' } = {}) {
  // Inside the repo (.bench-* is git-ignored), not os.tmpdir(): the bundle imports the native
  // @mongodb-js/zstd, left external, from node_modules.
  const dir = mkdtempSync(join(root, '.bench-'));
  const out = join(dir, format === 'cjs' ? 'bundle.cjs' : 'bundle.mjs');
  try {
    await build({
      stdin: {
        contents: exports
          .map(([rel, names]) => {
            const from = JSON.stringify(join(root, rel));
            return names === '*' ? `export * from ${from};` : `export { ${names} } from ${from};`;
          })
          .join('\n'),
        resolveDir: root,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format,
      target: 'node20',
      outfile: out,
      external: ['@mongodb-js/zstd'],
      // CommonJS dependencies (yaml) require node built-ins: give an ESM bundle a require.
      banner:
        format === 'esm'
          ? {
              js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
            }
          : {},
      logLevel: 'error',
    });
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Imports `src/...ts` (a path relative to the repository root), bundled. */
export const importTs = (rel) => importModules([[rel, '*']]);

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
