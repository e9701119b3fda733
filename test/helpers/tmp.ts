// A fresh temporary directory per test, removed afterwards.
// Call useTempDir() at the top of a describe block; the returned function gives the path.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';

export function useTempDir(prefix = 'ves-test-'): () => string {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterEach(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
    dir = '';
  });
  return () => dir;
}
