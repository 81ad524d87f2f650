#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `npm install` is enough: no build step, no install script.
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`fer-stream results ID | head`) closes the pipe: that is not an
// error of ours, so end quietly instead of printing EPIPE with a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
