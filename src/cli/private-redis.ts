// A private Redis for the one-machine commands (analyze, demo): when REDIS_URL is not set and
// nothing answers on 127.0.0.1:6379, start `redis-server` from PATH on a Unix socket in a private
// directory (mode 0700, no TCP port, no persistence), and stop it when the command ends. Long-running
// services never do this: they wait for their Redis.

import { redisNamed, useRedisUrl } from '../config/process-env.ts';
import { FerError } from '../core/errors.ts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Where the default Redis would be. */
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 6379;

export interface PrivateRedis {
  /** unix:///…/redis.sock */
  readonly url: string;
  /** Stops the server and removes its directory (idempotent). */
  stop(): Promise<void>;
}

/** Whether a Redis answers PING at host:port within `timeoutMs` (a refusal or any other answer: no). */
export function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      reply += data.toString('latin1');
      // +PONG, or an error that still says a Redis is there (NOAUTH: it wants a password).
      if (reply.includes('\r\n')) done(/^(\+PONG|-NOAUTH|-WRONGPASS)/.test(reply));
    });
    socket.on('error', () => done(false));
  });
}

/** The command that installs redis-server here, for the one line said when it is missing. */
export function redisInstallHint(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'brew install redis';
  if (platform === 'win32') return 'use WSL, or run Redis in a container, and set REDIS_URL';
  if (existsSync('/etc/debian_version')) return 'sudo apt-get install redis-server';
  if (existsSync('/etc/alpine-release')) return 'sudo apk add redis';
  if (existsSync('/etc/redhat-release') || existsSync('/etc/fedora-release')) return 'sudo dnf install redis';
  return "install your distribution's redis package";
}

/**
 * The Redis URL a one-machine command should use: REDIS_URL when set, the default address when a
 * Redis answers there, else a private redis-server started now (`onStart` says so in one line).
 * Returns null for "use the configuration as it is".
 */
export async function privateRedisIfNeeded(
  env: NodeJS.ProcessEnv,
  onStart: (message: string) => void,
): Promise<PrivateRedis | null> {
  if (redisNamed(env)) return null;
  if (await redisAnswers(DEFAULT_HOST, DEFAULT_PORT)) return null;
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new FerError(
      'redis_unavailable',
      `no Redis answers on ${DEFAULT_HOST}:${DEFAULT_PORT} and redis-server is not installed to start a private one: ${redisInstallHint()} (or set REDIS_URL)`,
    );
  }
  const redis = await startPrivateRedis();
  onStart(
    `no Redis on ${DEFAULT_HOST}:${DEFAULT_PORT}: started a private one for this command (${redis.url}; stopped when it ends)`,
  );
  return redis;
}

/** Starts redis-server on a Unix socket in a new private directory; resolves once it accepts connections. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-stream-redis-'));
  const socket = path.join(dir, 'redis.sock');
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--loglevel',
      'warning',
    ],
    // Its own process group: a Ctrl-C on the terminal must not stop it while the command still
    // cancels its videos in it; the command stops it last (and on any exit, below).
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Whatever ends the process, the server goes with it.
  process.once('exit', () => {
    if (!stopped) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 10_000;
  while (!(await socketAnswers(socket))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new FerError(
        'redis_unavailable',
        `could not start a private redis-server: ${stderr.trim().split('\n').pop() || 'it did not answer within 10 s'}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `unix://${socket}`, stop };
}

function socketAnswers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!existsSync(socket)) return resolve(false);
    const connection = net.connect({ path: socket });
    connection.on('connect', () => {
      connection.destroy();
      resolve(true);
    });
    connection.on('error', () => resolve(false));
  });
}

/**
 * Runs a one-machine command against a private Redis when none is there (see privateRedisIfNeeded), stopped when it
 * ends.
 */
export async function withRedisForOneMachine(run: () => Promise<number>): Promise<number> {
  const redis = await privateRedisIfNeeded(process.env, (line) => console.error(line));
  if (redis === null) return run();
  const restore = useRedisUrl(redis.url);
  try {
    return await run();
  } finally {
    restore();
    await redis.stop();
  }
}
