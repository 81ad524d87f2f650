#!/usr/bin/env node
// The CLI: the compiled JavaScript of src/ (bin/compile.js compiles it on the first start after an
// install or a source change), or the TypeScript through tsx where no compiler is installed.
// FER_RUN_SOURCES=1 runs the TypeScript through tsx anyway (while changing the sources).
import { compiledEntry } from './compile.js';

// A reader that stops early (`fer-stream results ID | head`) closes the pipe: that is not an
// error of ours, so end quietly instead of printing EPIPE with a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
let entry = process.env.FER_RUN_SOURCES === '1' ? null : compiledEntry();
if (entry === null) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('../src/cli/main.ts', import.meta.url).href;
} else {
  entry = new URL(`file://${entry}`).href;
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
