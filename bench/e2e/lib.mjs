// Shared by the bench/e2e programs: the corpus, the machine line, /proc readings of a process,
// an incremental line counter for its output, and a run-until-every-line-is-out loop.
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { generateNginx } from '../../scripts/gen-nginx.mjs';

const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s

export /** utime+stime (s), VmHWM and VmRSS (MB) of a live process, every thread included. */
function procUsage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return {
    cpuS,
    peakRssMb: kb('VmHWM'),
    rssMb: kb('VmRSS'),
    threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1]),
  };
}

/**
 * Seconds each thread of a live process has spent runnable but waiting for a CPU
 * (/proc/<pid>/task/<tid>/schedstat, 2nd field, ns), by thread id. On a shared machine this
 * tells "slow" from "starved": compare two readings with runQueueDelta().
 */
export function runQueueWait(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      out.set(tid, Number(f[1]) / 1e9);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** Run-queue seconds between two runQueueWait() readings (threads new since `a` count whole). */
export function runQueueDelta(a, b) {
  let s = 0;
  for (const [tid, w] of b) s += w - (a.get(tid) ?? 0);
  return s;
}

/** Counts newlines as the output grows, reading only the new bytes. */
export function lineCounter(path) {
  let fd = -1;
  let pos = 0;
  let n = 0;
  const buf = Buffer.allocUnsafe(4 << 20);
  return {
    count() {
      if (fd === -1) {
        if (!existsSync(path)) return 0;
        fd = openSync(path, 'r');
      }
      for (;;) {
        const got = readSync(fd, buf, 0, buf.length, pos);
        if (got === 0) return n;
        pos += got;
        for (let i = buf.indexOf(10); i !== -1 && i < got; i = buf.indexOf(10, i + 1)) n++;
      }
    },
    close: () => fd !== -1 && closeSync(fd),
  };
}

/** The machine, for every printed result: CPU model and count, memory, node, load average. */
export function machineLine() {
  const c = cpus();
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return `machine: ${c.length} x ${c[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load average ${load}`;
}

/**
 * Generates the seeded nginx corpus (scripts/gen-nginx.mjs) and reads it once so that every
 * run reads it from the page cache, as the reference figures were taken. Returns the bytes.
 */
export function nginxCorpus(path, lines, seed = 1) {
  generateNginx({ lines, seed, out: path });
  const text = readFileSync(path);
  return { text, mb: statSync(path).size / 1e6 };
}

/**
 * Polls a running process until its output file holds `lines` lines; returns the wall time from
 * `t0` (ms, performance.now()) and the process's CPU seconds and peak RSS at that moment. The
 * process is left running: the caller stops it (its CPU after the last line is not counted).
 */
export async function untilLinesOut(pid, out, lines, t0, timeoutMs = 300_000) {
  const counter = lineCounter(out);
  let last = procUsage(pid);
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      last = procUsage(pid);
      if (counter.count() >= lines) break;
      if (performance.now() - t0 > timeoutMs)
        throw new Error(`${out}: ${counter.count()}/${lines} lines after ${timeoutMs / 1000} s`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const usage = procUsage(pid);
    return {
      seconds,
      cpuS: usage.cpuS,
      peakRssMb: Math.max(usage.peakRssMb, last.peakRssMb),
    };
  } finally {
    counter.close();
  }
}
