// Shared by the disk buffer tests: open a buffer with small bounds, make recognisable payloads,
// read records back, and copy a buffer directory as it is on disk (what a crash leaves).

import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DiskBuffer, type DiskBufferOptions } from '../../../src/engine/disk-buffer/index.js';
import { silentLogger } from '../../../src/observe/logger.js';

export function openBuffer(dir: string, o: Partial<DiskBufferOptions> = {}): Promise<DiskBuffer> {
  return DiskBuffer.open({
    dir,
    maxBytes: 1024 * 1024,
    whenFull: 'block',
    log: silentLogger,
    fsyncIntervalMs: 1,
    cursorIntervalMs: 60_000,
    ...o,
  });
}

/** Payload `i`: its number, then filler so sizes vary; the content says which record it is. */
export function payload(i: number, size = 20 + (i % 7) * 13): Buffer {
  const head = `record-${i}:`;
  return Buffer.from(head + 'x'.repeat(Math.max(0, size - head.length)));
}

/** Reads `n` records, acking each when `ack` is set; returns their payloads as text. */
export async function readTexts(buf: DiskBuffer, n: number, ack = true): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const rec = await buf.read();
    if (rec === null) throw new Error(`buffer closed after ${i} records`);
    out.push(rec.payload.toString());
    if (ack) buf.ack(rec);
  }
  return out;
}

/** Resolves with the value, or 'pending' if it has not settled within `ms`. */
export async function settledWithin<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p,
    new Promise<'pending'>((res) => (timer = setTimeout(() => res('pending'), ms))),
  ]);
  clearTimeout(timer);
  return r;
}

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
}

/** A copy of the directory as it is on disk now: what a kill -9 at this moment would leave. */
export async function crashCopy(dir: string, to: string): Promise<string> {
  await cp(dir, to, { recursive: true });
  return to;
}

export const texts = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, k) => payload(from + k).toString());

export const segPath = (dir: string, id: number): string =>
  join(dir, `${String(id).padStart(12, '0')}.seg`);
