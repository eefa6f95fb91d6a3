import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    setupFiles: ['packages/server/test/setup/no-external-dns.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests that spawn servers and render audio compete for 2 cores; keep parallelism modest.
    maxWorkers: 2,
  },
});
