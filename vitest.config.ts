import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real-engine suite builds and runs llama.cpp: `npm run test:engine` (vitest.engine.config.ts).
    exclude: [...configDefaults.exclude, 'test/engine/**'],
    // Integration tests run real servers on loopback and spawn the CLI; give them room on 2-core machines.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
