import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure TypeScript (fast, no VM); `e2e` boots real kernels
// under QEMU and so runs its files one at a time (2 cores, TCG).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
