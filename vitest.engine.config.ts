// The real-engine suite (npm run test:engine): pd-bench against llama.cpp's llama-server built from the source
// node-llama-cpp ships, with a small random-weight model (scripts/). The first run builds llama-server (about
// 8 minutes on 2 cores, then cached in ~/.cache/pd-bench); later runs take about a minute. The default suite
// (vitest.config.ts) excludes test/engine.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/engine/**/*.test.ts'],
    // Builds llama-server and writes the model once, before any test file runs.
    globalSetup: ['test/engine/global-setup.ts'],
    // The servers need both cores: one test file at a time, and generous limits for a loaded machine.
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
