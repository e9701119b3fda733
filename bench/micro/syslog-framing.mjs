// Micro-benchmark of the syslog source's RFC 6587 frame decoder (src/sources/syslog/framing.ts)
// alone: RFC 5424 messages, LF-framed, octet-counted and mixed, fed in 64 KiB reads (a socket
// read), next to the file source's line splitter (src/engine/lines.ts) on the LF corpus: the
// price of framing over plain line splitting. Prints ns per message and MB/s.
//
//   node bench/micro/syslog-framing.mjs [--messages 1000000] [--runs 7]

import { cpus, loadavg } from 'node:os';
import { importTs, timeRuns } from './lib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const MESSAGES = arg('messages', 1_000_000);
const RUNS = arg('runs', 7);
const READ = 64 * 1024; // what one socket read returns at most (net.Socket default)

const { FrameDecoder } = await importTs('src/sources/syslog/framing.ts');
const { LineSplitter } = await importTs('src/engine/lines.ts');

const msg = (i) =>
  `<165>1 2026-11-23T12:00:${String(i % 60).padStart(2, '0')}.003Z web-${i % 16} app ${1000 + (i % 50)} ID47 [meta@32473 seq="${i}"] request ${i} served in ${i % 97} ms`;
const lf = [];
const octet = [];
const mixed = [];
for (let i = 0; i < MESSAGES; i++) {
  const m = msg(i);
  lf.push(`${m}\n`);
  octet.push(`${Buffer.byteLength(m)} ${m}`);
  mixed.push(i % 2 === 0 ? `${m}\n` : `${Buffer.byteLength(m)} ${m}`);
}
const reads = (parts) => {
  const all = Buffer.from(parts.join(''));
  const out = [];
  for (let s = 0; s < all.length; s += READ) out.push(all.subarray(s, s + READ));
  return { out, bytes: all.length };
};
const corpora = { lf: reads(lf), octet: reads(octet), mixed: reads(mixed) };

const rows = [];
const row = (name, bytes, t, frames) =>
  rows.push({
    case: name,
    ns_per_msg_best: +(t.best / MESSAGES).toFixed(1),
    ns_per_msg_median: +(t.median / MESSAGES).toFixed(1),
    MB_s_best: +(bytes / (t.best / 1e9) / 1e6).toFixed(0),
    messages: frames,
  });

for (const [name, c] of Object.entries(corpora)) {
  let frames = 0;
  const t = timeRuns(() => {
    frames = 0;
    const dec = new FrameDecoder(64 * 1024, (buf, n) => {
      frames += n;
    });
    for (const r of c.out) dec.push(r);
    dec.end();
  }, RUNS);
  row(`FrameDecoder ${name}`, c.bytes, t, frames);
}
{
  let frames = 0;
  const c = corpora.lf;
  const t = timeRuns(() => {
    frames = 0;
    const sp = new LineSplitter(64 * 1024, (buf, n) => {
      frames += n;
    });
    // write() takes ownership of a read (it may cut a long line in place): a fresh read each
    // time, as a socket gives; the copy is timed, as the decoder's copy into `out` is.
    for (const r of c.out) sp.write(Buffer.from(r));
    sp.flushPartial();
  }, RUNS);
  row('LineSplitter lf (baseline)', c.bytes, t, frames);
}

const cpu = cpus()[0]?.model ?? 'unknown cpu';
console.log(
  `syslog framing, ${MESSAGES} messages in ${READ / 1024} KiB reads, best and median of ${RUNS} runs; ${cpus().length} x ${cpu}, node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.table(rows);
