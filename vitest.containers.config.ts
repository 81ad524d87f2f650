import { defineConfig } from 'vitest/config';

// `npm run test:containers`: images built and the compose stack run on Podman (test/containers/).
// One file at a time (they share Podman's image store and the two cores), long timeouts: a fresh
// machine makes the base images and builds the application image first.
export default defineConfig({
  test: {
    include: ['test/containers/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    maxWorkers: 1,
    fileParallelism: false,
    pool: 'forks',
  },
});
