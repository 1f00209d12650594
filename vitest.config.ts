import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Says, before any test runs, which tests will be skipped for want of nginx or chromium, and why.
    globalSetup: ['test/helpers/announce-skips.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
