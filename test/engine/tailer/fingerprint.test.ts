import { writeFile, open, stat, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  checksumKey,
  fingerprint,
  FINGERPRINT_BYTES,
  inodeKey,
} from '../../../src/engine/tailer/fingerprint.js';
import { useTempDir } from '../../helpers/tmp.js';

describe('fingerprint', () => {
  const dir = useTempDir();

  async function idOf(name: string, mode: 'checksum' | 'device_and_inode' = 'checksum') {
    const p = path.join(dir(), name);
    const fh = await open(p, 'r');
    try {
      const st = await fh.stat({ bigint: true });
      return { id: await fingerprint(fh, mode, st.dev, st.ino), st };
    } finally {
      await fh.close();
    }
  }

  test('checksum: hash of the first line, `fp:` + 16 hex', async () => {
    await writeFile(path.join(dir(), 'a'), 'first line\nsecond\n');
    const { id } = await idOf('a');
    expect(id).toEqual({ key: checksumKey(Buffer.from('first line')), provisional: false });
    expect(id.key).toMatch(/^fp:[0-9a-f]{16}$/);
  });

  test('checksum: same first line, same key; later lines do not matter', async () => {
    await writeFile(path.join(dir(), 'a'), 'same\nx\n');
    await writeFile(path.join(dir(), 'b'), 'same\ny\nz\n');
    await writeFile(path.join(dir(), 'c'), 'other\nx\n');
    const [a, b, c] = await Promise.all([idOf('a'), idOf('b'), idOf('c')]);
    expect(a.id.key).toBe(b.id.key);
    expect(a.id.key).not.toBe(c.id.key);
  });

  test('checksum: incomplete short first line falls back to the inode, provisional', async () => {
    await writeFile(path.join(dir(), 'a'), 'no newline yet');
    const { id, st } = await idOf('a');
    expect(id).toEqual({ key: inodeKey(st.dev, st.ino), provisional: true });
    expect(id.key).toBe(`ino:${st.dev}:${st.ino}`);
    // Once the line completes, the key is its hash.
    await appendFile(path.join(dir(), 'a'), ' now\n');
    expect((await idOf('a')).id).toEqual({
      key: checksumKey(Buffer.from('no newline yet now')),
      provisional: false,
    });
  });

  test('checksum: an empty file is provisional', async () => {
    await writeFile(path.join(dir(), 'a'), '');
    expect((await idOf('a')).id.provisional).toBe(true);
  });

  test('checksum: a first line of 1 KiB or more is keyed by its first 1 KiB', async () => {
    const long = 'x'.repeat(FINGERPRINT_BYTES);
    await writeFile(path.join(dir(), 'a'), long);
    await writeFile(path.join(dir(), 'b'), long + 'and more, different\n');
    const [a, b] = await Promise.all([idOf('a'), idOf('b')]);
    expect(a.id).toEqual({ key: checksumKey(Buffer.from(long)), provisional: false });
    expect(b.id.key).toBe(a.id.key);
  });

  test('device_and_inode: always the inode key, whatever the content', async () => {
    await writeFile(path.join(dir(), 'a'), 'line\n');
    await writeFile(path.join(dir(), 'b'), '');
    const a = await idOf('a', 'device_and_inode');
    const b = await idOf('b', 'device_and_inode');
    const sa = await stat(path.join(dir(), 'a'), { bigint: true });
    expect(a.id).toEqual({ key: inodeKey(sa.dev, sa.ino), provisional: false });
    expect(b.id.provisional).toBe(false);
    expect(b.id.key).not.toBe(a.id.key);
  });
});
