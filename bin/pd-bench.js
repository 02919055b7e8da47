#!/usr/bin/env node
// Shim: the CLI lives in the compiled TypeScript (built by `npm install` through the prepare script).
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('pd-bench: the build output is missing; run `npm install` (or `npm run build`) first\n');
    process.exit(2);
  }
  throw err;
}
const code = await cli.main(process.argv);
process.exitCode = code;
// Everything is closed by now; if a stray handle kept the loop alive, do not hang the shell.
setTimeout(() => process.exit(code), 2000).unref();
