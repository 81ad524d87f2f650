// ffprobe and ffmpeg started by a small helper process. Forking is slow for a process that holds
// onnxruntime, its threads and a mapped model: measured with `node --cpu-prof` in `analyze` (the
// producer and the worker in one process), ≈160 ms of the main thread per spawn, against 2 ms from
// a 46 MB process. So a command that loads models next to a producer starts the helper first,
// while it is still small; the helper spawns each child with its stdout and stderr connected to us. Without a helper (producer processes hold no model),
// children are spawned directly. The helper exits with its parent.
//
// The children's output reaches us over a UNIX socket of ours (see HELPER).

import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';

export interface MediaExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the program could not be started at all (e.g. ENOENT). */
  readonly error?: Error;
}

export interface MediaProcess {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves when the process has exited (its pipes may still hold the last data). */
  readonly exited: Promise<MediaExit>;
  kill(signal?: NodeJS.Signals): void;
}

// The helper's whole program. Each child's stdout and stderr are connections to our UNIX socket
// (a header line names the child and the stream): the child writes straight into them, and the
// helper closes its own copies once the child runs, so the end of the data is the child's. (Handing
// the child's pipes back over IPC instead loses what the helper's socket has already read.)
const HELPER = `
const { spawn } = require('node:child_process');
const net = require('node:net');
const children = new Map();
process.on('disconnect', () => { for (const c of children.values()) c.kill('SIGKILL'); process.exit(0); });
const connect = (path, header) => new Promise((resolve, reject) => {
  const socket = net.connect(path, () => socket.write(header, () => resolve(socket)));
  socket.on('error', reject);
});
process.on('message', async (m) => {
  if (m.type === 'kill') { children.get(m.id)?.kill(m.signal); return; }
  let out, err;
  try {
    [out, err] = await Promise.all([connect(m.socket, m.id + ' stdout\\n'), connect(m.socket, m.id + ' stderr\\n')]);
  } catch (e) { process.send({ type: 'error', id: m.id, message: 'media spawner: ' + e.message }); return; }
  const child = spawn(m.command, m.args, { stdio: ['ignore', out, err] });
  children.set(m.id, child);
  const close = () => { out.destroy(); err.destroy(); };
  child.on('error', (e) => { close(); children.delete(m.id); process.send({ type: 'error', id: m.id, message: e.message, code: e.code }); });
  child.on('spawn', close);
  child.on('exit', (code, signal) => { children.delete(m.id); process.send({ type: 'exit', id: m.id, code, signal }); });
});
`;

interface Pending {
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  readonly exit: (status: MediaExit) => void;
  /** The two connections the child writes into, once they are here. */
  readonly sockets: net.Socket[];
}

let helper: ChildProcess | undefined;
let server: net.Server | undefined;
let socketPath = '';
const pending = new Map<number, Pending>();
let nextId = 1;

/** A connection from the helper: "<id> stdout|stderr\n", then the child's bytes. */
function onConnection(socket: net.Socket): void {
  let header = Buffer.alloc(0);
  const onData = (data: Buffer) => {
    header = Buffer.concat([header, data]);
    const newline = header.indexOf(10);
    if (newline === -1) return;
    socket.off('data', onData);
    const [id, which] = header.subarray(0, newline).toString().split(' ');
    const entry = pending.get(Number(id));
    if (!entry) return void socket.destroy();
    entry.sockets.push(socket);
    const target = which === 'stdout' ? entry.stdout : entry.stderr;
    const rest = header.subarray(newline + 1);
    if (rest.length > 0) target.write(rest);
    socket.pipe(target);
  };
  socket.on('data', onData);
  socket.on('error', () => undefined);
}

/** Starts the helper (call before loading models). Idempotent. */
export function startMediaSpawner(): void {
  if (helper) return;
  socketPath = path.join(os.tmpdir(), `fer-stream-spawner-${process.pid}-${Date.now()}.sock`);
  server = net.createServer(onConnection);
  server.listen(socketPath);
  server.unref();
  const child = spawn(process.execPath, ['-e', HELPER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
  child.on('message', (message: { type: string; id: number; code?: number | string | null; signal?: NodeJS.Signals | null; message?: string }) => {
    const entry = pending.get(message.id);
    if (!entry) return;
    if (message.type === 'exit') {
      entry.exit({ code: (message.code as number | null) ?? null, signal: message.signal ?? null });
    } else if (message.type === 'error') {
      pending.delete(message.id);
      const error = Object.assign(new Error(message.message ?? 'spawn failed'), { code: message.code });
      entry.stdout.end();
      entry.stderr.end();
      entry.exit({ code: null, signal: null, error });
    }
  });
  // Gone (stopped, killed, crashed): later children are spawned directly; running ones are
  // reported dead and their connections closed (an orphaned ffmpeg then fails on its next write).
  child.on('exit', () => {
    if (helper === child) helper = undefined;
    for (const [id, entry] of pending) {
      pending.delete(id);
      for (const socket of entry.sockets) socket.destroy();
      entry.stdout.end();
      entry.stderr.end();
      entry.exit({ code: null, signal: 'SIGKILL', error: new Error('the media spawner process ended') });
    }
  });
  child.unref();
  (child.channel as { unref?: () => void } | undefined)?.unref?.();
  helper = child;
}

/** Stops the helper (its children with it). */
export function stopMediaSpawner(): void {
  // Disconnecting makes the helper kill its children and exit.
  if (helper?.connected) helper.disconnect();
  helper = undefined;
  server?.close();
  server = undefined;
  if (socketPath) rmSync(socketPath, { force: true });
}

/** Starts `command` with `args` (no shell; stdin closed): through the helper when it runs, else directly. */
export function spawnMedia(command: string, args: readonly string[]): MediaProcess {
  const via = helper;
  if (!via?.connected) {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<MediaExit>((resolve) => {
      child.on('error', (error) => resolve({ code: null, signal: null, error }));
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    return { stdout: child.stdout, stderr: child.stderr, exited, kill: (signal = 'SIGTERM') => void child.kill(signal) };
  }
  const id = nextId++;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let settle!: (status: MediaExit) => void;
  const exitStatus = new Promise<MediaExit>((resolve) => (settle = resolve));
  pending.set(id, { stdout, stderr, exit: settle, sockets: [] });
  // Exited, and both pipes drained: what a caller of child_process's 'close' expects.
  const drained = (stream: Readable) => new Promise<void>((resolve) => (stream.readableEnded ? resolve() : stream.once('end', resolve).once('close', resolve)));
  const exited = exitStatus.then(async (status) => {
    pending.delete(id);
    if (!status.error) await Promise.all([drained(stdout), drained(stderr)]);
    return status;
  });
  via.send({ type: 'spawn', id, command, args, socket: socketPath });
  return { stdout, stderr, exited, kill: (signal = 'SIGTERM') => void (via.connected && via.send({ type: 'kill', id, signal })) };
}

export interface RunMediaOptions {
  readonly timeoutMs?: number;
  readonly maxBuffer?: number;
}

/** Runs `command` to completion and returns its output; rejects like execFile ({stdout, stderr, code, killed, signal}). */
export async function runMedia(command: string, args: readonly string[], options: RunMediaOptions = {}): Promise<{ stdout: string; stderr: string }> {
  const child = spawnMedia(command, args);
  const maxBuffer = options.maxBuffer ?? 16 * 1024 * 1024;
  let stdout = '';
  let stderr = '';
  let killed = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (stdout.length > maxBuffer) (killed = true), child.kill('SIGKILL');
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-maxBuffer)));
  const timer = options.timeoutMs ? setTimeout(() => ((killed = true), child.kill('SIGKILL')), options.timeoutMs) : undefined;
  const status = await child.exited;
  clearTimeout(timer);
  if (status.error) throw Object.assign(status.error, { stdout, stderr });
  if (status.code !== 0 || killed) throw Object.assign(new Error(`${command} exited with ${status.signal ?? `code ${status.code}`}`), { stdout, stderr, code: status.code, killed, signal: status.signal });
  return { stdout, stderr };
}
