import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// A redis-server of our own on a free loopback port, for tests and benches that kill or restart
// Redis (the suite's shared Redis must never be disturbed). Data lives in its own directory with
// an append-only file fsynced on every write, so a restart — even after kill -9 — keeps
// everything Redis acknowledged, as a production Redis with AOF does. No vitest here: bench/chaos
// uses it too.

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface OwnRedisOptions {
  /** Address to listen on (default 127.0.0.1; e.g. ::1). */
  readonly bind?: string;
  /** More redis-server arguments (e.g. --requirepass, ACL users). */
  readonly args?: readonly string[];
  /** The append-only file, fsynced on every write (default true: crash tests need it); benchmarks turn it off. */
  readonly persistence?: boolean;
}

export class OwnRedis {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'fer-redis-'));

  private constructor(
    readonly port: number,
    private readonly options: OwnRedisOptions = {},
  ) {}

  /** A free port, not started yet (for "Redis down at start" tests). */
  static async reserve(options: OwnRedisOptions = {}): Promise<OwnRedis> {
    return new OwnRedis(await freePort(), options);
  }

  static async start(options: OwnRedisOptions = {}): Promise<OwnRedis> {
    const redis = await OwnRedis.reserve(options);
    await redis.up();
    return redis;
  }

  private get host(): string {
    return this.options.bind ?? '127.0.0.1';
  }

  get url(): string {
    return `redis://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Starts (or restarts) the server on its port and data directory; resolves once it answers. */
  async up(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        this.host,
        ...(this.options.args ?? []),
        '--dir',
        this.dir,
        ...(this.options.persistence === false
          ? ['--appendonly', 'no']
          : ['--appendonly', 'yes', '--appendfsync', 'always']),
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await this.ping()) return;
      await sleep(50);
    }
    throw new Error(`redis-server on port ${this.port} did not start`);
  }

  /** kill -9: the server disappears mid-command, as in a crash. */
  async crash(): Promise<void> {
    const child = this.child;
    // Already gone (exited, or killed by a signal): nothing to wait for.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP: the server keeps its connections but answers nothing (a hung or overloaded Redis). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.resume();
    await this.crash();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect(this.port, this.host);
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        // With a password it answers NOAUTH: up all the same.
        resolve(/^(\+PONG|-NOAUTH)/.test(data.toString()));
      });
      socket.once('error', () => resolve(false));
    });
  }
}

/** CPU seconds (user + system) a Redis server has used so far (INFO cpu): benches count Redis's share of the work. */
export async function redisCpuSeconds(redis: { info(section: string): Promise<string> }): Promise<number> {
  const info = await redis.info('cpu');
  const value = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return value('used_cpu_user') + value('used_cpu_sys');
}
