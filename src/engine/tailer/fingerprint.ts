// File identity, the checkpoint key: a hash of the first line ('checksum': survives renames and
// copies) or the device+inode pair ('device_and_inode': survives edits at the start of a file).
//
// 'checksum' needs a complete first line (or 1 KiB of it). Until a new file has one, its key is
// the inode key and `provisional` is set; the tailer re-keys it once the first line completes.

import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export type FingerprintMode = 'checksum' | 'device_and_inode';

/**
 * 1 KiB of the first line: enough to tell log files apart (their first line carries a timestamp)
 * while costing one small read per opened file, and short enough that a file being written gets
 * a stable key quickly.
 */
export const FINGERPRINT_BYTES = 1024;

export interface Identity {
  /** `fp:<16 hex>` or `ino:<dev>:<ino>`. */
  key: string;
  /** True for a 'checksum' file whose first line is not complete yet (the key is the inode's). */
  provisional: boolean;
}

export function inodeKey(dev: bigint | number, ino: bigint | number): string {
  return `ino:${dev}:${ino}`;
}

/** 64 bits of SHA-256: collisions between distinct first lines are out of reach in practice. */
export function checksumKey(firstLine: Buffer): string {
  return `fp:${createHash('sha256').update(firstLine).digest('hex').slice(0, 16)}`;
}

/** The checksum key of a head of file (its first FINGERPRINT_BYTES bytes or fewer), if it has one. */
export function checksumOfHead(head: Buffer): string | null {
  const nl = head.indexOf(10);
  if (nl !== -1) return checksumKey(head.subarray(0, nl));
  if (head.length >= FINGERPRINT_BYTES) return checksumKey(head.subarray(0, FINGERPRINT_BYTES));
  return null;
}

/** Identity of the open file `fh` (whose fstat gave `dev`/`ino`). Reads at most 1 KiB. */
export async function fingerprint(
  fh: FileHandle,
  mode: FingerprintMode,
  dev: bigint | number,
  ino: bigint | number,
): Promise<Identity> {
  if (mode === 'device_and_inode') return { key: inodeKey(dev, ino), provisional: false };
  const head = Buffer.allocUnsafe(FINGERPRINT_BYTES);
  let n = 0;
  while (n < FINGERPRINT_BYTES) {
    const { bytesRead } = await fh.read(head, n, FINGERPRINT_BYTES - n, n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return identityOfHead(head.subarray(0, n), dev, ino);
}

/**
 * fingerprint() with readSync: for a page-cached file on a local filesystem, where the tailer
 * checks the head before every read of a followed file (a thread-pool round trip costs ~10x
 * the read itself: tailer.ts, "Synchronous small reads").
 */
export function fingerprintSync(
  fd: number,
  mode: FingerprintMode,
  dev: bigint | number,
  ino: bigint | number,
): Identity {
  if (mode === 'device_and_inode') return { key: inodeKey(dev, ino), provisional: false };
  const head = Buffer.allocUnsafe(FINGERPRINT_BYTES);
  let n = 0;
  while (n < FINGERPRINT_BYTES) {
    const bytesRead = readSync(fd, head, n, FINGERPRINT_BYTES - n, n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return identityOfHead(head.subarray(0, n), dev, ino);
}

function identityOfHead(head: Buffer, dev: bigint | number, ino: bigint | number): Identity {
  const key = checksumOfHead(head);
  if (key !== null) return { key, provisional: false };
  return { key: inodeKey(dev, ino), provisional: true };
}
