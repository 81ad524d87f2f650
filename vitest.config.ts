import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global-redis.ts', 'test/setup/compile.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Two cores: files run two at a time; heavy inference tests share them.
    maxWorkers: 2,
    pool: 'forks',
  },
});
