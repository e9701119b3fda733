// A disk-buffered sink with the real binary: checkpoints advance once batches are fsynced into
// the buffer (even while the destination is down, and without stalling the other sink), and
// after kill -9 the restart replays what the sink had not acknowledged, so every line arrives;
// a batch refused for good (HTTP 400) lands in the dead-letter file instead.

import { existsSync } from 'node:fs';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  fileToFileConfig,
  lineCount,
  readNdjson,
  seqLines,
  seqs,
  startAgent,
  waitFor,
  useTestDir,
} from './harness.js';
import { checkpointOffset, linesBefore, unackedRecords } from '../helpers/delivery.js';

let dir: string;
useTestDir((d) => (dir = d));

const SEQ = /seq=(\d+)/g;
const seqsIn = (text: string): number[] => [...text.matchAll(SEQ)].map((m) => Number(m[1]));

/** The seqs of the records a disk buffer still holds past its persisted cursor. */
async function unackedSeqs(bufDir: string): Promise<Set<number>> {
  return new Set((await unackedRecords(bufDir)).flatMap(seqsIn));
}

function counts(xs: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

describe('file sink with buffer: {type: disk}', () => {
  test('kill -9 mid-stream, restart: every line arrives; duplicates only from unacknowledged records', async () => {
    const log = join(dir, 'app.log');
    const half = 60_000;
    const total = 2 * half;
    await writeFile(log, seqLines(0, half));
    const out = join(dir, 'out.ndjson');
    const dataDir = join(dir, 'data');
    const cfg = await fileToFileConfig(dir, [log]);
    // fsync per 200-line batch makes the sink the slow part: the buffer fills ahead of it.
    const yaml = (await readFile(cfg, 'utf8'))
      .replace(`path: ${out}`, `path: ${out}\n    fsync: true\n    buffer: {type: disk}`)
      .replace('max_events: 500', 'max_events: 200');
    await writeFile(cfg, yaml);
    const bufDir = join(dataDir, 'buffers', 'out');

    const first = startAgent(['--config', cfg]);
    await waitFor(
      () => existsSync(join(dataDir, 'checkpoints.json')) && lineCount(out) >= 10_000,
      'a checkpoint and 10000 lines out',
      30_000,
      first.stderr,
    );
    first.proc.kill('SIGKILL');
    await first.exited;
    // What the disk says at the moment of the kill: the source resumes after the checkpoint,
    // the buffer re-sends what is past its cursor. Any duplicate must come from one of them.
    const checkpointed = await linesBefore(log, await checkpointOffset(dataDir));
    const replayed = await unackedSeqs(bufDir);
    expect((await readdir(bufDir)).some((n) => n.endsWith('.seg'))).toBe(true);

    await appendFile(log, seqLines(half, total));
    const second = startAgent(['--config', cfg]);
    await waitFor(
      () => lineCount(out) >= total && new Set(seqs(readNdjson(out))).size >= total,
      'every line after the restart',
      60_000,
      second.stderr,
    );
    second.proc.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    const got = seqs(readNdjson(out));
    expect(new Set(got).size).toBe(total);
    const dups = [...counts(got)].filter(([, n]) => n > 1).map(([s]) => s);
    const unexplained = dups.filter((s) => s < checkpointed && !replayed.has(s));
    expect(unexplained).toEqual([]);
    // Everything was delivered before the graceful stop: acknowledged segments are gone and
    // nothing is left past the cursor.
    expect((await readdir(bufDir)).filter((n) => n.endsWith('.seg')).length).toBeLessThanOrEqual(1);
    expect((await unackedSeqs(bufDir)).size).toBe(0);
    expect(second.stderr()).not.toMatch(/VES_BUFFER_IO/);
  }, 120_000);
});

/** A receiver of NDJSON batches: `down` answers 503, a batch holding `reject` gets a 400. */
class Receiver {
  down = true;
  reject = '';
  received: number[] = [];
  refused = 0;
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (this.down) {
          res.writeHead(503).end('down for maintenance');
        } else if (this.reject !== '' && body.includes(this.reject)) {
          this.refused++;
          res.writeHead(400, { 'content-type': 'text/plain' }).end('field `seq` is poison');
        } else {
          this.received.push(...seqsIn(body));
          res.writeHead(200).end();
        }
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('http sink with buffer: {type: disk}', () => {
  test('receiver down: checkpoints pass the buffered lines, the other sink gets them all; kill -9; restart: all arrive, the refused batch is dead-lettered', async () => {
    const rx = new Receiver();
    await rx.start();
    try {
      const log = join(dir, 'app.log');
      const total = 20_000;
      await writeFile(log, seqLines(0, total));
      const dataDir = join(dir, 'data');
      const cfg = join(dir, 'agent.yaml');
      await writeFile(
        cfg,
        `data_dir: ${dataDir}
checkpoint_interval: 100ms
sources:
  app:
    type: file
    include: [${JSON.stringify(log)}]
    poll_interval: 50ms
sinks:
  up:
    type: http
    uri: http://127.0.0.1:${rx.port}/v1/logs
    format: ndjson
    compression: none
    healthcheck: false
    retry: {initial_backoff: 20ms, max_backoff: 100ms}
    buffer: {type: disk, max_bytes: 64MiB}
  copy:
    type: file
    path: ${join(dir, 'copy.ndjson')}
batch:
  max_events: 500
  timeout: 5ms
`,
      );
      const size = (await readFile(log)).length;
      const first = startAgent(['--config', cfg]);
      // Nothing was delivered, yet the whole file is checkpointed: it is all in the buffer.
      let offset = 0;
      await waitFor(
        () => {
          void checkpointOffset(dataDir)
            .then((o) => (offset = o))
            .catch(() => undefined);
          return offset === size;
        },
        'the checkpoint to reach the end of the file with the receiver down',
        30_000,
        first.stderr,
      );
      expect(rx.received).toEqual([]);
      // Fan-out: the file sink next to it got every line meanwhile (each sink has its own buffer).
      await waitFor(() => lineCount(join(dir, 'copy.ndjson')) >= total, 'the file sink', 10_000);
      first.proc.kill('SIGKILL');
      await first.exited;
      expect((await unackedSeqs(join(dataDir, 'buffers', 'up'))).size).toBe(total);

      rx.down = false;
      rx.reject = 'seq=7777 ';
      const second = startAgent(['--config', cfg]);
      const deadFile = join(dataDir, 'dead-letter', 'up.ndjson');
      const deadLines = async () =>
        existsSync(deadFile)
          ? (await readFile(deadFile, 'utf8'))
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as { events: number; body: string })
          : [];
      let deadEvents = 0;
      await waitFor(
        () => {
          // While polling, the agent may be mid-way through writing a line: retry on the next
          // poll (the final read below is strict).
          void deadLines().then(
            (d) => (deadEvents = d.reduce((n, e) => n + e.events, 0)),
            () => undefined,
          );
          return deadEvents > 0 && new Set(rx.received).size + deadEvents === total;
        },
        'every line delivered or dead-lettered',
        30_000,
        second.stderr,
      );
      second.proc.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);

      const dead = await deadLines();
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ sink: 'up', code: 'VES_SINK_REJECTED', status: 400 });
      const deadSeqs = seqsIn(dead[0].body);
      expect(deadSeqs).toContain(7777);
      expect(dead[0].events).toBe(deadSeqs.length);
      // Every line is accounted for: delivered, or in the dead-letter file with its reason.
      const all = new Set([...rx.received, ...deadSeqs]);
      expect(all.size).toBe(total);
      expect(rx.received.some((s) => deadSeqs.includes(s))).toBe(false);
      expect(second.stderr()).toMatch(/VES_SINK_REJECTED/);
    } finally {
      await rx.stop();
    }
  }, 90_000);
});
