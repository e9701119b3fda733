#!/usr/bin/env node
// Startup cost of the built binary, next to a bare `node -e 0` in the same run:
//   - `--version` wall time (median of N runs)
//   - time from spawn to the first NDJSON line of `--watch FILE` on stdout (median of M runs)
//   - the bundle's size
// Usage: npm run build && node bench/e2e/startup.mjs [--runs 20]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const bin = resolve('dist/ves-log-collector.cjs');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 20;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeSpawn(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function firstLine(file, stateDir) {
  return new Promise((done, fail) => {
    const t = process.hrtime.bigint();
    const child = spawn(process.execPath, [bin, '--watch', file, '--log-level', 'warn'], {
      env: { ...process.env, VES_STATE_DIR: stateDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.once('data', () => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      child.kill('SIGTERM');
      child.once('exit', () => done(ms));
    });
    child.once('error', fail);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'ves-startup-'));
try {
  const file = join(dir, 'app.log');
  writeFileSync(
    file,
    '127.0.0.1 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.5.0"\n',
  );
  const nodeMs = [],
    versionMs = [],
    firstMs = [];
  for (let i = 0; i < runs; i++) {
    nodeMs.push(timeSpawn(['-e', '0']));
    versionMs.push(timeSpawn([bin, '--version']));
  }
  for (let i = 0; i < Math.max(3, Math.floor(runs / 4)); i++) {
    // A fresh state dir each time: the file is read from the beginning, as on a first start.
    firstMs.push(await firstLine(file, join(dir, `state-${i}`)));
  }
  const c = cpus();
  console.log(
    `machine: ${c.length} x ${c[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
  );
  console.log(`bundle: ${bin} ${(statSync(bin).size / 1024).toFixed(0)} KiB`);
  console.log(
    `node -e 0:                  median ${median(nodeMs).toFixed(1)} ms over ${runs} runs`,
  );
  console.log(
    `ves-log-collector --version: median ${median(versionMs).toFixed(1)} ms over ${runs} runs (${(median(versionMs) - median(nodeMs)).toFixed(1)} ms over bare node)`,
  );
  console.log(
    `--watch FILE, first line out: median ${median(firstMs).toFixed(1)} ms over ${firstMs.length} runs`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
