import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The container tier (`npm run test:containers`): images built here, OVN and the agent in real
// containers. Its own config, so that `vitest run` of the other tiers never starts it by the
// way; `npm test` runs it after them. The first run builds a Debian base (minutes); later runs
// reuse the images.
export default defineConfig({
  root: path.resolve(import.meta.dirname, '../..'),
  test: {
    name: 'containers',
    include: ['test/containers/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
