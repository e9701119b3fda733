// `ves-log-collector generate`: seeded nginx access-log lines for demos, benches and tests.

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { VesError, EXIT_OK } from '../errors.js';
import { nginxGenerator } from '../gen/nginx.js';

/** Lines per write: ~1.3 MB strings keep the stream busy without holding the corpus in memory. */
const LINES_PER_WRITE = 10_000;

export async function generate(opts: {
  lines: string;
  seed: string;
  out?: string;
}): Promise<number> {
  const total = Number(opts.lines);
  const seed = Number(opts.seed);
  if (!Number.isInteger(total) || total < 0)
    throw new VesError('VES_USAGE', `--lines must be a whole number, got "${opts.lines}"`, 2);
  if (!Number.isInteger(seed))
    throw new VesError('VES_USAGE', `--seed must be a whole number, got "${opts.seed}"`, 2);
  const out = opts.out ? createWriteStream(opts.out) : process.stdout;
  const gen = nginxGenerator(seed);
  const start = Date.UTC(2026, 10, 23, 12);
  for (let i = 0; i < total;) {
    const n = Math.min(LINES_PER_WRITE, total - i);
    let s = '';
    for (let k = 0; k < n; k++, i++) s += gen.line(start + i) + '\n';
    if (!out.write(s)) await once(out, 'drain');
  }
  if (opts.out) {
    out.end();
    await once(out, 'finish');
  }
  return EXIT_OK;
}
