#!/usr/bin/env node
// The benchmark corpus: a seeded nginx access log, written by the BUILT binary's `generate`
// command (src/gen/nginx.ts), so benches, tests and the demo share one generator (issue #3).
//
//   npm run build && node scripts/gen-nginx.mjs --lines 2000000 [--seed 1] --out access.log
//
// Same --lines and --seed, same bytes. Imported by bench/e2e/lib.mjs as generateNginx().
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../dist/ves-log-collector.cjs', import.meta.url));

/** Writes `lines` seeded nginx lines to `out`; throws with the binary's stderr on failure. */
export function generateNginx({ lines, seed = 1, out }) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
  const r = spawnSync(
    process.execPath,
    [BIN, 'generate', '--lines', String(lines), '--seed', String(seed), '--out', out],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`generate failed (${r.status}): ${r.stderr}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? def : args[i + 1];
  };
  const out = opt('out', undefined);
  if (!out) {
    console.error('usage: node scripts/gen-nginx.mjs --lines N [--seed S] --out FILE');
    process.exit(2);
  }
  generateNginx({ lines: Number(opt('lines', '2000000')), seed: Number(opt('seed', '1')), out });
}
