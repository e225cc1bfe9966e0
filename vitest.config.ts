import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Storage tests fsync for real; give them room on slow CI disks.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The projection worker thread (and child processes tests start this way) runs the TypeScript sources.
    execArgv: ['--import', './tests/support/typescript-hooks.ts'],
  },
});
