#!/usr/bin/env node
// The CLI: the compiled JavaScript of src/ (bin/compile.js compiles it on the first start after an
// install or a source change), or the TypeScript through tsx where no compiler is installed.
// FER_RUN_SOURCES=1 runs the TypeScript through tsx anyway (while changing the sources).
import { spawn } from 'node:child_process';
import { compiledEntry } from './compile.js';

// onnxruntime reads this process's command line (/proc/self/cmdline) when it creates a session and
// walks it recursively: a long one (`classify photos/*.jpg`, a few hundred paths, ≈ 20 KB) overflows
// the stack of the thread that loads the model and the process dies with SIGSEGV. So a long command
// line is handed to a child of ours over IPC, and the child's own command line stays short.
const ARGV_BYTES_LIMIT = 8 * 1024;
const IPC_ARGV = 'FER_ARGV_OVER_IPC';

async function argvOverIpc() {
  return new Promise((resolve) => {
    process.once('message', (argv) => {
      // Nothing else comes over the channel: let it stop keeping the event loop alive.
      process.channel?.unref();
      resolve(argv);
    });
  });
}

async function runInChild(argv) {
  const child = spawn(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [IPC_ARGV]: '1' },
  });
  child.send(argv);
  // A terminal's Ctrl-C reaches both processes (one process group); a signal sent to this one
  // alone (kill PID, a supervisor's SIGTERM) is passed on, and the child's exit decides ours.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  return code ?? 128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGKILL: 9, SIGSEGV: 11 }[signal] ?? 1);
}

// A reader that stops early (`fer-stream results ID | head`) closes the pipe: that is not an
// error of ours, so end quietly instead of printing EPIPE with a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
let argv = process.argv.slice(2);
if (process.env[IPC_ARGV] === '1' && process.send !== undefined) {
  delete process.env[IPC_ARGV];
  argv = await argvOverIpc();
} else if (argv.reduce((bytes, a) => bytes + Buffer.byteLength(a) + 1, 0) > ARGV_BYTES_LIMIT) {
  process.exit(await runInChild(argv));
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
process.exitCode = await main(argv);
