// The reliability suite (test/reliability): the built binary under crash loops, rotation under
// load, sink outages, full disks, thousands of files and hostile input. Scenarios load the two
// cores on purpose, so they run one file at a time; each stops by itself within its timeout.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
