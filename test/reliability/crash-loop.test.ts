// Crash loop (issue #7): a file growing at 20,000 lines/s shipped over HTTP to a local receiver,
// the agent killed with SIGKILL at 10 random moments and restarted at once. Every line must
// arrive (exact), and a line may arrive twice only if it lay past the checkpoint on disk at one
// of the kills (read just before each kill, as test/e2e/delivery.test.ts does).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { startAgent, tempDir, waitFor, type Agent } from '../e2e/harness.js';
import { checkpointOf, linesBefore } from './lib/checkpoints.js';
import { SeqReceiver } from './lib/receiver.js';
import { RssSampler, mb } from './lib/rss.js';
import {
  figures,
  httpAgentConfig,
  killAgent,
  runSeed,
  seededRandom,
  stopAgent,
} from './lib/scenario.js';
import { SeqWriter } from './lib/writer.js';

const RATE = 20_000; // lines/s, as issue #7 asks
const KILLS = 10;
/** Each run lives 0.8-3.8 s before its kill: ~10 kills in ~25 s, some mid-startup catch-up. */
const MIN_LIFE_MS = 800;
const MAX_EXTRA_MS = 3000;

let dir: string;
let cleanup: () => Promise<void>;
let rx: SeqReceiver;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('ves-rel-crash-'));
  rx = await new SeqReceiver().start();
});
afterEach(async () => {
  await rx.stop();
  await cleanup();
});

test('kill -9 ten times while a file grows at 20,000 lines/s: zero lines lost, duplicates only past the checkpoint at each kill', async () => {
  const seed = runSeed();
  const random = seededRandom(seed);
  const log = join(dir, 'app.log');
  const dataDir = join(dir, 'data');
  const writer = new SeqWriter({ path: log, rate: RATE, tag: 'crash' });
  const cfg = await httpAgentConfig(dir, { sources: { app: [log] }, uri: rx.uri, dataDir });

  /** Per kill: lines before the checkpoint on disk, and lines written, just before the kill. */
  const kills: { checkpointed: number; written: number }[] = [];
  let agent: Agent | undefined;
  let peakRss = 0;
  writer.start();
  const t0 = performance.now();
  try {
    for (let k = 0; k < KILLS; k++) {
      agent = startAgent(['--config', cfg]);
      const rss = new RssSampler(agent.proc.pid!, 100);
      await new Promise((r) => setTimeout(r, MIN_LIFE_MS + random() * MAX_EXTRA_MS));
      expect(agent.proc.exitCode, agent.stderr()).toBeNull();
      // Read the checkpoint first, then note what was written, then kill: the real checkpoint
      // at the kill can only be later than the one read, so the bound only gets looser.
      const offset = existsSync(join(dataDir, 'checkpoints.json'))
        ? await checkpointOf(dataDir, log)
        : 0;
      const written = writer.seq;
      rss.stop();
      peakRss = Math.max(peakRss, rss.peakBytes);
      await killAgent(agent);
      kills.push({ checkpointed: await linesBefore(log, offset), written });
    }
    const crashedFor = performance.now() - t0;
    // The writer stops; one last run must deliver everything and stop cleanly.
    const total = writer.stop();
    agent = startAgent(['--config', cfg]);
    const recoverFrom = performance.now();
    await waitFor(
      () => rx.seqs.complete({ crash: total }),
      `all ${total} lines after the last restart`,
      60_000,
      () => `${rx.seqs.distinct('crash')} distinct so far; ${agent!.stderr().slice(-2000)}`,
    );
    const recoverMs = performance.now() - recoverFrom;
    expect(await stopAgent(agent)).toBe(0);

    const r = rx.seqs.report('crash', total);
    // Lines past the on-disk checkpoint at some kill: the only ones allowed to repeat.
    const bound = kills.reduce((n, k) => n + (k.written - k.checkpointed), 0);
    const dups = rx.seqs.duplicated('crash');
    const unexplained = dups.filter(
      (s) => !kills.some((k) => s >= k.checkpointed && s < k.written),
    );
    figures('crash-loop', {
      seed,
      rate: RATE,
      kills: kills.length,
      seconds: Math.round(crashedFor / 100) / 10,
      written: total,
      delivered: r.delivered,
      lost: r.lost,
      duplicates: r.duplicates,
      duplicate_bound: bound,
      peak_rss_mb: mb(peakRss),
      final_catchup_ms: Math.round(recoverMs),
    });
    expect(r.lostSample).toEqual([]);
    expect(r.lost).toBe(0);
    expect(r.unknown).toBe(0);
    expect(unexplained.slice(0, 20)).toEqual([]);
    expect(r.duplicates).toBeLessThanOrEqual(bound);
    // Each kill really lost progress in flight: the checkpoint was behind the writer.
    expect(kills.every((k) => k.checkpointed <= k.written)).toBe(true);
  } finally {
    writer.stop();
    if (agent) await killAgent(agent);
  }
});
