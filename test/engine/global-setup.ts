// Runs once before the engine test files: builds llama-server and writes the test model (both cached), so no
// test file pays for that inside its own time limit. The paths reach the tests through vitest's provide/inject.
import type { TestProject } from 'vitest/node';
import { ensureEngineFiles, type EngineFiles } from './llama-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engineFiles: EngineFiles;
  }
}

export default function setup(project: TestProject): void {
  const t0 = Date.now();
  const files = ensureEngineFiles();
  process.stderr.write(`engine: ${files.bin}\nengine: ${files.model} (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  project.provide('engineFiles', files);
}
