import { defineConfig } from 'vitest/config';

/**
 * Test tiers. Unit tests sit beside the code; cross-package tiers live in test/.
 * The pcsc and browser tiers drive one machine-wide pcscd / Chromium, so their files
 * run one at a time.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{shared,hardware,terminal,backend}/src/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // The fault and offline-week tests run real processes: one file at a time keeps
          // their timings meaningful on a 2-core machine.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'pcsc',
          include: ['test/pcsc/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
