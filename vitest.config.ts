import { defineConfig } from 'vitest/config';

// Three tiers (see README "Tests"): unit needs nothing; integration starts real
// ovsdb-servers/northd; e2e starts the whole OVN stack with network namespaces
// (root). Tiers that touch namespaces run their files one at a time: two cores,
// and each file brings up its own sandbox.
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
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
