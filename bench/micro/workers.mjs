// Micro-benchmark of the process stage alone, inline versus the parse worker pool
// (src/pipeline/workers.ts): generated nginx lines in 256 KiB chunks, as a file source hands
// them over, from memory (no file I/O, no sink). Prints lines/s, CPU us/line of the whole
// process (every thread) and where chunks were parsed; the difference in CPU is the pool's cost
// (two rings, copies in and out, wakeups).
//
//   node bench/micro/workers.mjs [--lines 1000000] [--parser nginx|raw] [--workers 0,1,2]
//                                [--runs 3]
//
// The TypeScript is bundled on the fly with esbuild (a devDependency): this script's harness for
// the main thread, and src/cli.ts (which turns into a parse worker) for the workers.

import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const opt = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const LINES = Number(opt('lines', '1000000'));
const PARSER = opt('parser', 'nginx');
const WORKERS = opt('workers', '0,1,2').split(',').map(Number);
const RUNS = Number(opt('runs', '3'));
const CHUNK = 256 * 1024; // a file source's read size

const dir = mkdtempSync(join(tmpdir(), 'ves-bench-'));
try {
  const harness = join(dir, 'harness.ts');
  writeFileSync(
    harness,
    `export { parseConfig } from ${JSON.stringify(join(root, 'src/config/index.ts'))};
export { Counters } from ${JSON.stringify(join(root, 'src/observe/counters.ts'))};
export { Processor } from ${JSON.stringify(join(root, 'src/pipeline/process.ts'))};
export { WorkerPool } from ${JSON.stringify(join(root, 'src/pipeline/workers.ts'))};
export { createLogger } from ${JSON.stringify(join(root, 'src/observe/logger.ts'))};
export { nginxGenerator } from ${JSON.stringify(join(root, 'src/gen/nginx.ts'))};
`,
  );
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20.19',
    define: { __VES_VERSION__: '"bench"' },
    external: ['@mongodb-js/zstd'],
    logLevel: 'warning',
  };
  const entry = join(dir, 'worker.cjs');
  await build({
    ...common,
    entryPoints: [join(root, 'src/cli.ts')],
    outfile: entry,
    format: 'cjs',
  });
  await build({ ...common, entryPoints: [harness], outfile: join(dir, 'h.cjs'), format: 'cjs' });
  const m = await import(pathToFileURL(join(dir, 'h.cjs')).href);
  const { parseConfig, Counters, Processor, WorkerPool, createLogger, nginxGenerator } =
    m.default ?? m;

  // The corpus, cut into chunks of whole lines.
  const gen = nginxGenerator(1);
  const parts = [];
  for (let i = 0; i < LINES; i++) parts.push(gen.line(Date.UTC(2024, 0, 1) + i));
  const data = Buffer.from(parts.join('\n') + '\n');
  const chunks = [];
  for (let s = 0; s < data.length;) {
    let e = data.lastIndexOf(10, Math.min(data.length - 1, s + CHUNK - 1)) + 1;
    if (e <= s) e = data.length;
    const buf = data.subarray(s, e);
    let n = 0;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
    chunks.push({
      sourceId: 's',
      path: '/var/log/nginx/access.log',
      buf,
      lines: n,
      truncated: false,
      mark: null,
      readAt: 0,
    });
    s = e;
  }

  const c = cpus();
  console.log(
    `machine: ${c.length} x ${c[0]?.model}, node ${process.version}, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `work: ${LINES.toLocaleString('en-US')} lines (${(data.length / 1e6).toFixed(0)} MB) in ${chunks.length} chunks, parser ${PARSER} -> NDJSON, best of ${RUNS}`,
  );
  const cfg = parseConfig(
    `sources:\n  s: {type: stdin, parser: ${PARSER}}\nsinks:\n  out: {type: stdout}\n`,
    'bench.yaml',
    {},
  );
  const wants = { ndjson: true, raw: false };
  const log = createLogger({ level: 'warn', format: 'text' });
  for (const workers of WORKERS) {
    const counters = new Counters();
    const processor = new Processor(cfg, wants, counters);
    let here = 0;
    const real = processor.process.bind(processor);
    processor.process = (ch) => (here++, real(ch));
    let events = 0;
    const onBlock = (b) => (events += b.events);
    let pool = null;
    if (workers > 0) {
      pool = new WorkerPool({
        config: cfg,
        wants,
        counters,
        log,
        size: workers,
        processor,
        onBlock,
        onFatal: (e) => {
          throw e;
        },
        entry,
      });
      while (pool.readyCount < workers) await new Promise((r) => setTimeout(r, 5));
    }
    const results = [];
    for (let run = 0; run < RUNS + 1; run++) {
      events = 0;
      here = 0;
      const u0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < chunks.length; i++) {
        if (pool === null) onBlock(processor.process(chunks[i]));
        else {
          pool.submit(chunks[i]);
          // The pipeline pauses its sources at this bound (dispatch.ts `full`).
          if (pool.full) await pool.drained();
        }
        // A file source's reads are separate event-loop turns: blocks come back between them.
        if ((i & 1) === 1) await new Promise((r) => setImmediate(r));
      }
      if (pool !== null) await pool.drained();
      const u = process.cpuUsage(u0);
      const s = (performance.now() - t0) / 1000;
      if (events !== LINES) throw new Error(`lost events: ${events}`);
      if (run > 0) results.push({ s, us: (u.user + u.system) / LINES, here }); // run 0 warms up
    }
    await pool?.close();
    const best = results.reduce((a, b) => (a.s < b.s ? a : b));
    console.log(
      `workers ${workers}: ${Math.round(LINES / best.s)
        .toLocaleString('en-US')
        .padStart(10)} lines/s, ` +
        `CPU ${best.us.toFixed(2)} us/line (runs ${results.map((r) => r.us.toFixed(2)).join('/')}), ` +
        `chunks parsed on the main thread ${best.here}/${chunks.length}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
