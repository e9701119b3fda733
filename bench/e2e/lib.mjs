// Shared by the bench/e2e programs: the corpus, the machine line, /proc readings of a process,
// an incremental line counter for its output, run-until-every-line-is-out loops, and the
// command-line option reader.
import { spawn, spawnSync } from 'node:child_process';
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

/** The value after `--name` on the command line, or `def`. */
export function opt(name, def) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : args[i + 1];
}

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

/**
 * Generates `lines` nginx lines into `path` with the built binary's `generate` command and reads
 * them once so that every run reads them from the page cache, as the reference figures were
 * taken. Returns the corpus size in MB.
 */
export function generatedCorpus(bin, path, lines) {
  const gen = spawnSync(process.execPath, [
    bin,
    'generate',
    '--lines',
    String(lines),
    '--out',
    path,
  ]);
  if (gen.status !== 0) throw new Error(`generate failed: ${gen.stderr}`);
  readFileSync(path);
  return statSync(path).size / 1e6;
}

/**
 * Starts the built agent on `cfg` and polls `delivered()` (a count, or a promise of one) until
 * it reaches `lines`; returns the wall time and the agent's CPU seconds and peak RSS at that
 * moment. The agent is then SIGKILLed: the run is measured, a graceful stop is the e2e tests'
 * business.
 */
export async function runAgentUntil(bin, cfg, delivered, lines, timeoutMs) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, '--config', cfg, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = null;
  child.once('exit', (code) => (exited = code));
  let last = { cpuS: 0, peakRssMb: 0 };
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      if (exited !== null) throw new Error(`the agent exited early (${exited})`);
      last = procUsage(child.pid);
      const got = await delivered();
      if (got >= lines) break;
      if (performance.now() - t0 > timeoutMs) {
        throw new Error(`not delivered within ${timeoutMs / 1000} s: ${got} of ${lines} lines`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const usage = procUsage(child.pid);
    return { seconds, cpuS: usage.cpuS, peakRssMb: Math.max(usage.peakRssMb, last.peakRssMb) };
  } finally {
    if (exited === null) child.kill('SIGKILL');
    await new Promise((r) => (exited !== null ? r() : child.once('exit', r)));
  }
}
