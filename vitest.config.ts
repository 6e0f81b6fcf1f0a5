import { defineConfig } from 'vitest/config';

// Three projects: `unit` is pure TypeScript (fast, no VM); `e2e` boots real kernels
// under QEMU and so runs its files one at a time (2 cores, TCG); `e2e-full` boots
// every full-OS image (minutes each) and runs only with `npm run test:full`.
// Every project's temporary folders go into one per-run folder, removed at the end (test/temp-folder.ts).
const globalSetup = ['test/temp-folder.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          globalSetup,
          include: ['test/unit/**/*.test.ts'],
          // Some unit tests run real tools (shellcheck over 300 scripts, Chromium, the CLI):
          // seconds on a quiet machine, much more when the 2 cores are shared.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          globalSetup,
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          name: 'e2e-full',
          globalSetup,
          include: ['test/e2e-full/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 1_800_000,
          hookTimeout: 600_000,
        },
      },
      {
        // The 2.6.32 patched-kernel path for real (npm run test:kernel): builds a kernel
        // with TOA in-tree on the first run (long), boots it from its own disk after that.
        test: {
          name: 'e2e-kernel',
          globalSetup,
          include: ['test/e2e-kernel/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 4 * 3_600_000,
        },
      },
    ],
  },
});
