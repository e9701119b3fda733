// 2,000 files matched by one glob, each written 10 lines/s, through the built binary: the
// agent's CPU, RSS and open descriptors are measured (and printed) while they grow; when the
// writers pause, files idle for `idle_timeout` release their descriptors, and every line
// written after that (files reopened on change) still arrives, each exactly once.
import { appendFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lineCounter, procUsage } from '../../bench/e2e/lib.mjs';
import { startAgent, tempDir, waitFor } from '../e2e/harness.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('ves-rel-many-')));
afterAll(async () => cleanup());

const FILES = 2000;
const LINES_PER_SECOND = 10;
/** How long the writers run before the pause. */
const WRITE_MS = 10_000;
/** The agent's idle_timeout: short, so the pause shows descriptors being released. */
const IDLE_TIMEOUT = '2s';
/** One timer tick writes a burst to FILES / TICKS_PER_SECOND files (10 lines each). */
const TICKS_PER_SECOND = 20;

const name = (i: number) => join(dir, 'in', `f${String(i).padStart(4, '0')}.log`);
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

test('2,000 files at 10 lines/s: bounded descriptors, idle files closed and reopened, every line once', async () => {
  await mkdir(join(dir, 'in'));
  // seq[i]: the next sequence number of file i. Every file starts with one line.
  const seq = new Array<number>(FILES).fill(0);
  const line = (i: number) => `f${i} seq=${seq[i]++} ${'x'.repeat(i % 23)}\n`;
  for (let i = 0; i < FILES; i++) await writeFile(name(i), line(i));
  const written = () => seq.reduce((a, b) => a + b, 0);

  const out = join(dir, 'out.ndjson');
  const cfg = join(dir, 'agent.yaml');
  await writeFile(
    cfg,
    `data_dir: ${join(dir, 'data')}
sources:
  many:
    type: file
    include: ["${join(dir, 'in')}/*.log"]
    idle_timeout: ${IDLE_TIMEOUT}
sinks:
  out: {type: file, path: ${out}}
`,
  );
  const agent = startAgent(['--config', cfg]);
  const pid = agent.proc.pid!;
  const counter = lineCounter(out);
  const arrived = (what: string, ms: number) =>
    waitFor(
      () => counter.count() >= written(),
      what,
      ms,
      () => `${counter.count()} of ${written()}; ${agent.stderr().slice(-1500)}`,
    );
  let timer: NodeJS.Timeout | undefined;
  try {
    await arrived('the first line of every file', 30_000);
    const idleAtStart = fds(pid);

    // Writers: one timer, round-robin; each file gets LINES_PER_SECOND lines a second as one
    // append (appendFileSync opens and closes: the test holds no descriptor per file).
    let next = 0;
    const perTick = FILES / TICKS_PER_SECOND;
    const burst = (i: number) => {
      let s = '';
      for (let k = 0; k < LINES_PER_SECOND; k++) s += line(i);
      appendFileSync(name(i), s);
    };
    const before = written();
    const writeStart = performance.now();
    timer = setInterval(() => {
      for (let k = 0; k < perTick; k++) {
        burst(next);
        next = (next + 1) % FILES;
      }
    }, 1000 / TICKS_PER_SECOND);

    // Measure over the last 7 s of the 10 s of writing (the first 3 s open the files).
    await new Promise((r) => setTimeout(r, 3000));
    const u0 = procUsage(pid);
    const t0 = performance.now();
    let maxFds = 0;
    while (performance.now() - t0 < WRITE_MS - 3000) {
      maxFds = Math.max(maxFds, fds(pid));
      await new Promise((r) => setTimeout(r, 250));
    }
    const u1 = procUsage(pid);
    const secs = (performance.now() - t0) / 1000;
    clearInterval(timer);
    timer = undefined;
    const rate = (written() - before) / ((performance.now() - writeStart) / 1000);
    const cpu = ((u1.cpuS - u0.cpuS) / secs) * 100;
    await arrived('every line written so far', 60_000);

    // Pause: every file is idle; each must give its descriptor back.
    const pauseStart = performance.now();
    let idleFds = fds(pid);
    await waitFor(
      () => (idleFds = fds(pid)) < FILES / 20,
      `descriptors to drop below ${FILES / 20} once files are idle for ${IDLE_TIMEOUT}`,
      30_000,
      () => `${idleFds} open`,
    );
    const releasedAfter = (performance.now() - pauseStart) / 1000;

    console.log(
      `many files: ${FILES} files, ${Math.round(rate)} lines/s written (${LINES_PER_SECOND}/s each): ` +
        `agent CPU ${cpu.toFixed(1)}% of one core, RSS ${u1.rssMb.toFixed(0)} MB (peak ${u1.peakRssMb.toFixed(0)} MB), ` +
        `fds ${idleAtStart} at start, max ${maxFds} while writing, ${idleFds} after ${releasedAfter.toFixed(1)} s idle ` +
        `(idle_timeout ${IDLE_TIMEOUT}); load average ${loadavg()[0].toFixed(2)}`,
    );
    // Bounded: at most one descriptor per file, plus the agent's own (~40: node, sinks, data_dir).
    expect(maxFds).toBeLessThanOrEqual(FILES + 100);

    // New lines after the pause: closed files are noticed and reopened, nothing is missed.
    for (let i = 0; i < FILES; i++) burst(i);
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < FILES; i += 2) burst(i);
    await arrived('every line written after the pause', 60_000);
    await new Promise((r) => setTimeout(r, 500)); // nothing more (no duplicates) arrives
    agent.proc.kill('SIGTERM');
    expect((await agent.exited).code, agent.stderr()).toBe(0);
  } finally {
    if (timer) clearInterval(timer);
    counter.close();
    agent.proc.kill('SIGKILL');
  }

  // Each file's lines arrived exactly once, in order.
  const got = new Array<number>(FILES).fill(0);
  const rl = createInterface({ input: createReadStream(out), crlfDelay: Infinity });
  for await (const l of rl) {
    const m = /"message":"f(\d+) seq=(\d+) /.exec(l);
    if (!m) throw new Error(`unexpected event: ${l}`);
    const i = Number(m[1]);
    if (Number(m[2]) !== got[i]) {
      throw new Error(`file ${i}: seq ${m[2]} arrived where ${got[i]} was next`);
    }
    got[i]++;
  }
  expect(got).toEqual(seq);
});
