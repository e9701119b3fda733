// Rotation under load (issue #7): four files written at 50,000 lines/s in all; two rotated by
// rename+create every 2 s, two by copytruncate every 2 s (offset by 1 s), shipped over HTTP.
// rename+create: every line exactly once. copytruncate: the only lines that may be lost are those
// written between the copy and the truncate (the test does both, so it knows them); every
// other line arrives, and none twice.

import { copyFileSync, renameSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { startAgent, tempDir, waitFor, type Agent } from '../e2e/harness.js';
import { SeqReceiver } from './lib/receiver.js';
import { RssSampler, mb } from './lib/rss.js';
import { figures, httpAgentConfig, killAgent, stopAgent } from './lib/scenario.js';
import { SeqWriter } from './lib/writer.js';

const RATE = 50_000; // lines/s over all files, as issue #7 asks
const FILES = 4;
const ROTATE_EVERY_MS = 2000;
const RUN_MS = 10_000; // 5 rotations of each file
/** logrotate's copy is not instant: the writer goes on for this long before the truncate. */
const COPY_WINDOW_MS = 20;

let dir: string;
let cleanup: () => Promise<void>;
let rx: SeqReceiver;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('ves-rel-rotation-'));
  rx = await new SeqReceiver().start();
});
afterEach(async () => {
  await rx.stop();
  await cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('rename+create and copytruncate every 2 s at 50,000 lines/s over 4 files: zero loss with rename, copytruncate loss only between copy and truncate', async () => {
  const per = RATE / FILES;
  const renamed = [1, 2].map(
    (i) => new SeqWriter({ path: join(dir, `r${i}.log`), rate: per, tag: `r${i}` }),
  );
  const copied = [1, 2].map(
    (i) => new SeqWriter({ path: join(dir, `c${i}.log`), rate: per, tag: `c${i}` }),
  );
  const writers = [...renamed, ...copied];
  // Rotated copies are tailed too: a copy resumes where its original was read to (same first
  // line), so lines the agent had not read before the truncate come from the copy.
  const cfg = await httpAgentConfig(dir, {
    sources: {
      renamed: [join(dir, 'r*.log')],
      copied: [join(dir, 'c*.log'), join(dir, 'c*.log.*')],
    },
    uri: rx.uri,
  });
  /** Per copytruncate writer: [first, end) seqs written between each copy and its truncate. */
  const windows = new Map<string, Array<[number, number]>>(copied.map((w) => [w.tag, []]));
  let agent: Agent | undefined;
  try {
    agent = startAgent(['--config', cfg]);
    await waitFor(() => agent!.stderr().includes('started'), 'agent start', 20_000, agent.stderr);
    const rss = new RssSampler(agent.proc.pid!);
    for (const w of writers) w.start();
    const t0 = performance.now();
    let round = 0;
    let rotations = 0;
    while (performance.now() - t0 < RUN_MS) {
      await sleep(ROTATE_EVERY_MS / 2);
      round++;
      if (round % 2 === 0) {
        // logrotate's default: move the file away, create a new one, the writer reopens at once.
        for (const w of renamed) {
          w.tick();
          renameSync(w.path, `${w.path}.${round}`);
          w.reopen();
        }
      } else {
        // copytruncate: copy, the writer goes on meanwhile, then truncate in place.
        const starts = copied.map((w) => {
          w.tick();
          copyFileSync(w.path, `${w.path}.${round}`);
          return w.seq;
        });
        await sleep(COPY_WINDOW_MS);
        copied.forEach((w, i) => {
          w.tick();
          truncateSync(w.path, 0);
          windows.get(w.tag)!.push([starts[i], w.seq]);
        });
      }
      rotations++;
    }
    const written = Object.fromEntries(writers.map((w) => [w.tag, w.stop()]));
    const runMs = performance.now() - t0;
    const inWindow = (tag: string, s: number) =>
      (windows.get(tag) ?? []).some(([a, b]) => s >= a && s < b);
    // Everything but copytruncate's windows must arrive.
    const outsideWindowsMissing = () => {
      let n = 0;
      for (const w of writers) {
        for (let s = 0; s < written[w.tag]; s++) {
          if (rx.seqs.count(w.tag, s) === 0 && !inWindow(w.tag, s)) n++;
        }
      }
      return n;
    };
    await waitFor(
      () => outsideWindowsMissing() === 0,
      'every line outside the copytruncate windows',
      60_000,
      () => `${outsideWindowsMissing()} missing; ${agent!.stderr().slice(-2000)}`,
    );
    rss.stop();
    expect(await stopAgent(agent)).toBe(0);

    const rep = (ws: SeqWriter[]) =>
      rx.seqs.total(Object.fromEntries(ws.map((w) => [w.tag, written[w.tag]])));
    const r = rep(renamed);
    const c = rep(copied);
    const windowLines = [...windows.values()].flat().reduce((n, [a, b]) => n + b - a, 0);
    figures('rotation', {
      rate: RATE,
      files: FILES,
      seconds: Math.round(runMs / 100) / 10,
      rotations,
      rename_written: r.written,
      rename_lost: r.lost,
      rename_duplicates: r.duplicates,
      copytruncate_written: c.written,
      copytruncate_lost: c.lost,
      copy_window_lines: windowLines,
      copytruncate_duplicates: c.duplicates,
      peak_rss_mb: mb(rss.peakBytes),
    });
    // rename+create: exact.
    expect(r.lostSample).toEqual([]);
    expect(r.duplicates).toBe(0);
    expect(r.unknown).toBe(0);
    // copytruncate: lost lines lie in the copy..truncate windows (checked above), so at most them.
    expect(c.lost).toBeLessThanOrEqual(windowLines);
    expect(c.unknown).toBe(0);
    // A copy resumes where its original stopped: no file is read twice.
    expect(c.duplicates).toBe(0);
  } finally {
    for (const w of writers) w.stop();
    if (agent) await killAgent(agent);
  }
});
