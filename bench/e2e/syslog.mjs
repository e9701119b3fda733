#!/usr/bin/env node
// syslog over TCP -> parsed JSON in a file, side by side in one run: the BUILT binary
// (`type: syslog`, parser syslog, file sink) and Debian's syslog-ng (network() source with
// flags(syslog-protocol), file destination with format-json). The same sender, a child process
// of its own, writes N RFC 5424 messages (LF-framed, which both read) over 2 connections as
// fast as each collector takes them; the clock stops when the output holds N lines. Prints
// messages/s, CPU us/message and peak RSS of each collector, the ratio, and the machine.
//
//   npm run build && node bench/e2e/syslog.mjs [--messages 500000] [--runs 3] [--only ves|syslog-ng]
import { fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { lineCounter, procUsage } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : args[i + 1];
};
const CONNECTIONS = 2;
/** The sender child (main only). */
let senderProc;

if (args.includes('--sender')) await sender();
else await main();

/**
 * The sender (this file run with --sender, forked): builds the messages, then on {port} writes
 * its share over each connection, honouring backpressure, and reports when all are written.
 */
async function sender() {
  const n = Number(opt('messages', '500000'));
  const per = Math.ceil(n / CONNECTIONS);
  const bufs = [];
  for (let c = 0; c < CONNECTIONS; c++) {
    const parts = [];
    for (let i = c * per; i < Math.min(n, (c + 1) * per); i++) {
      parts.push(
        `<165>1 2026-11-23T12:00:${String(i % 60).padStart(2, '0')}.003Z web-${i % 16} app ${1000 + (i % 50)} ID47 [meta@32473 seq="${i}"] request ${i} served in ${i % 97} ms\n`,
      );
    }
    bufs.push(Buffer.from(parts.join('')));
  }
  process.send({ ready: true, bytes: bufs.reduce((a, b) => a + b.length, 0) });
  process.on('message', async ({ port }) => {
    await Promise.all(
      bufs.map(
        (buf) =>
          new Promise((done) => {
            const s = connect({ host: '127.0.0.1', port }, () => {
              // 256 KiB writes: a relay's batch; write() waits for 'drain' when the peer is slow.
              let off = 0;
              const pump = () => {
                while (off < buf.length) {
                  const end = Math.min(off + 256 * 1024, buf.length);
                  const ok = s.write(buf.subarray(off, end));
                  off = end;
                  if (!ok) return void s.once('drain', pump);
                }
                s.end(done);
              };
              pump();
            });
          }),
      ),
    );
    process.send({ sent: true });
  });
}

/** A free loopback port (bound then released: the collector binds it right after). */
function freePort() {
  return new Promise((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => r(port));
    });
  });
}

async function runOne(name, dir, n, msgBytes) {
  const port = await freePort();
  const out = join(dir, `${name}.out`);
  let child;
  if (name === 'ves') {
    const cfg = join(dir, 'ves.yaml');
    writeFileSync(
      cfg,
      `data_dir: ${join(dir, 'data')}
sources:
  sys: {type: syslog, address: "127.0.0.1:${port}"}
sinks:
  out: {type: file, path: ${out}}
`,
    );
    const bin = resolve('dist/ves-log-collector.cjs');
    child = spawn(process.execPath, [bin, '--config', cfg, '--log-level', 'warn'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } else {
    const conf = join(dir, 'syslog-ng.conf');
    writeFileSync(
      conf,
      `@version: 3.35
options { keep-hostname(yes); log-fifo-size(100000); };
source s { network(ip("127.0.0.1") port(${port}) transport("tcp") flags(syslog-protocol) max-connections(10) log-msg-size(65536)); };
destination d { file("${out}" template("$(format-json --scope rfc5424 --scope nv-pairs --key ISODATE)\\n")); };
log { source(s); destination(d); };
`,
    );
    child = spawn(
      '/usr/sbin/syslog-ng',
      [
        '-F',
        '--no-caps',
        '-f',
        conf,
        '-R',
        join(dir, 'persist'),
        '-p',
        join(dir, 'pid'),
        '-c',
        join(dir, 'ctl'),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  // Listening? Connect until it answers (a bounded wait).
  for (let t = Date.now(); ;) {
    const ok = await new Promise((r) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.end(() => r(true)));
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (Date.now() - t > 15_000) throw new Error(`${name} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const before = procUsage(child.pid);
  const lines = lineCounter(out);
  const t0 = process.hrtime.bigint();
  senderProc.send({ port });
  let last = before;
  while (lines.count() < n) {
    await new Promise((r) => setTimeout(r, 20));
    last = procUsage(child.pid);
    if (Number(process.hrtime.bigint() - t0) > 300e9)
      throw new Error(`${name}: timed out at ${lines.count()} lines`);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const usage = procUsage(child.pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(out, { force: true });
  return {
    rate: n / secs,
    mbs: msgBytes / secs / 1e6,
    cpuUs: ((usage.cpuS - before.cpuS) * 1e6) / n,
    peakRssMb: Math.max(usage.peakRssMb, last.peakRssMb),
    secs,
  };
}

async function main() {
  const n = Number(opt('messages', '500000'));
  const runs = Number(opt('runs', '3'));
  const only = opt('only', '');
  const have = spawnSync('/usr/sbin/syslog-ng', ['--version']).status === 0;
  const names = ['ves', 'syslog-ng'].filter((x) => (only ? x === only : x === 'ves' || have));
  const dir = mkdtempSync(join(tmpdir(), 'ves-bench-syslog-'));
  senderProc = fork(new URL(import.meta.url).pathname, ['--sender', '--messages', String(n)]);
  const { bytes } = await new Promise((r) => senderProc.once('message', r));
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  console.log(
    `syslog TCP -> parsed JSON file, ${fmt(n)} RFC 5424 messages (${(bytes / 1e6).toFixed(0)} MB) over ${CONNECTIONS} connections; ${cpus().length} x ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const best = {};
  try {
    for (let r = 1; r <= runs; r++) {
      for (const name of names) {
        const res = await runOne(name, dir, n, bytes);
        await new Promise((ok) => senderProc.once('message', ok)); // {sent}
        console.log(
          `run ${r} ${name.padEnd(9)}: ${fmt(res.rate)} msg/s, ${res.mbs.toFixed(0)} MB/s, CPU ${res.cpuUs.toFixed(2)} us/msg, peak RSS ${res.peakRssMb.toFixed(0)} MB, ${res.secs.toFixed(2)} s`,
        );
        if (!best[name] || res.rate > best[name].rate) best[name] = res;
      }
    }
  } finally {
    senderProc.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  if (best.ves && best['syslog-ng']) {
    const a = best.ves;
    const b = best['syslog-ng'];
    console.log(
      `best runs: ves ${(a.rate / b.rate).toFixed(2)}x syslog-ng's msg/s, ${(a.cpuUs / b.cpuUs).toFixed(2)}x its CPU per message, ${(a.peakRssMb / b.peakRssMb).toFixed(2)}x its peak RSS`,
    );
  }
  console.log(
    `load after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}
