// Tests mirror src/: test/<area>/<module>.test.ts. End-to-end tests (test/e2e) run the built
// binary, so `npm test` builds first.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The reliability suite has its own config and command: `npm run test:reliability`.
    exclude: ['test/reliability/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start real processes and watch real files: keep the two cores from thrashing.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
