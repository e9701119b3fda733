#!/usr/bin/env node
// Catch-up benchmark of the BUILT binary: a generated, page-cached nginx access log read from
// the beginning into a file sink. Prints lines/s, MB/s, CPU us/line (user+sys of the agent
// process, from /proc), CPU-seconds per million lines and peak RSS (VmHWM), with the machine.
//
//   npm run build && node bench/e2e/catchup.mjs [--lines 1000000] [--encoding ndjson|raw]
//                                                [--parser raw] [--runs 3] [--watch]
// --watch runs `ves-log-collector --watch FILE > out` (stdout sink) instead of a config file.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { machineLine, nginxCorpus, untilLinesOut } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : args[i + 1];
};
const lines = Number(opt('lines', '1000000'));
const encoding = opt('encoding', 'ndjson');
const parser = opt('parser', 'raw');
const runs = Number(opt('runs', '3'));
const viaWatch = args.includes('--watch');
const bin = resolve('dist/ves-log-collector.cjs');

async function runOnce(dir, corpus, i) {
  const out = join(dir, `out-${i}.ndjson`);
  const dataDir = join(dir, `data-${i}`);
  const t0 = performance.now();
  let child;
  if (viaWatch) {
    const fd = openSync(out, 'w');
    child = spawn(
      process.execPath,
      [bin, '--watch', corpus, '--parser', parser, '--log-level', 'warn'],
      {
        env: { ...process.env, VES_STATE_DIR: dataDir },
        stdio: ['ignore', fd, 'inherit'],
      },
    );
    closeSync(fd);
  } else {
    const cfg = join(dir, `agent-${i}.yaml`);
    writeFileSync(
      cfg,
      `data_dir: ${dataDir}
sources:
  bench: {type: file, include: [${corpus}], parser: ${parser}}
sinks:
  out: {type: file, path: ${out}, encoding: ${encoding}}
`,
    );
    child = spawn(process.execPath, [bin, '--config', cfg, '--log-level', 'warn'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const r = await untilLinesOut(child.pid, out, lines, t0);
  child.kill('SIGTERM');
  await new Promise((res) => child.once('exit', res));
  rmSync(out, { force: true });
  return r;
}

const dir = mkdtempSync(join(tmpdir(), 'ves-catchup-'));
try {
  const corpus = join(dir, 'access.log');
  const { mb } = nginxCorpus(corpus, lines);
  console.log(machineLine());
  console.log(
    `work: ${lines} nginx lines (${mb.toFixed(0)} MB, page-cached), parser ${parser}, ${viaWatch ? '--watch > file' : `file sink, encoding ${encoding}`}`,
  );
  const results = [];
  for (let i = 0; i < runs; i++) {
    const r = await runOnce(dir, corpus, i);
    results.push(r);
    console.log(
      `run ${i + 1}: ${Math.round(lines / r.seconds).toLocaleString('en-US')} lines/s, ${(mb / r.seconds).toFixed(0)} MB/s, ` +
        `CPU ${((r.cpuS * 1e6) / lines).toFixed(2)} us/line (${(r.cpuS / (lines / 1e6)).toFixed(2)} CPU-s per million lines), ` +
        `peak RSS ${r.peakRssMb.toFixed(0)} MB, ${r.seconds.toFixed(2)} s`,
    );
  }
  const best = results.reduce((a, b) => (a.seconds < b.seconds ? a : b));
  console.log(
    `best: ${Math.round(lines / best.seconds).toLocaleString('en-US')} lines/s, CPU ${((best.cpuS * 1e6) / lines).toFixed(2)} us/line, peak RSS ${best.peakRssMb.toFixed(0)} MB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
