import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The container tests build images and run the compose stack: their own command (npm run
    // test:containers, vitest.containers.config.ts), after this suite in .ci/run.
    exclude: ['test/containers/**', '**/node_modules/**'],
    globalSetup: ['test/setup/global-redis.ts', 'test/setup/compile.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Two cores: files run two at a time; heavy inference tests share them.
    maxWorkers: 2,
    pool: 'forks',
  },
});
