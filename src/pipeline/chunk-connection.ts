// Moves frame chunks (multi-megabyte binary values) between Redis and reusable buffers.
// Through ioredis every GET reply becomes a fresh Buffer assembled by Buffer.concat, and every SET
// with a Buffer argument is first concatenated with its command header into one new Buffer: each
// a full copy of the chunk into freshly faulted pages, then garbage to collect (measured at about
// half the worker's CPU per frame for GET). This client speaks just enough RESP for GET and SET
// (plus AUTH/SELECT). GET reads the socket into one fixed buffer (net.Socket `onread`) and copies
// each reply once, into a buffer from a small pool that the worker hands back when the chunk's
// frames are analysed. SET hands the caller's buffer to the socket as it is (corked header, body,
// CRLF: one writev, no copy in user space); the caller must leave it untouched until SET resolves.

import net from 'node:net';
import { FerError } from '../core/errors.ts';

interface Pending {
  readonly resolve: (value: Buffer | null | string) => void;
  readonly reject: (error: Error) => void;
  /** GET replies go into a buffer from the pool; other replies are short status lines. */
  readonly bulk: boolean;
}

/** Buffers of one size, reused: a worker holds at most its concurrency's worth at a time. */
export class ChunkBufferPool {
  private readonly free = new Map<number, Buffer[]>();
  constructor(private readonly maxFreePerSize = 16) {}

  acquire(size: number): Buffer {
    return this.free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
  }

  release(buffer: Buffer): void {
    const list = this.free.get(buffer.length) ?? [];
    if (list.length < this.maxFreePerSize) list.push(buffer);
    this.free.set(buffer.length, list);
  }
}

/** GET and SET of frame chunks: one connection, or a router over the masters of a Redis Cluster. */
export interface ChunkStore {
  get(key: string): Promise<Buffer | null>;
  set(key: string, data: Uint8Array, ttlSeconds: number): Promise<void>;
  readonly healthy: boolean;
  close(): void;
}

export class ChunkConnection implements ChunkStore {
  private readonly socket: net.Socket;
  private readonly pending: Pending[] = [];
  private readonly ready: Promise<void>;
  private header = '';
  private body: Buffer | undefined;
  private bodyFilled = 0;
  /** Bytes of the trailing CRLF after a bulk body still to skip. */
  private trailer = 0;
  private failed: Error | undefined;

  private timer: NodeJS.Timeout | undefined;

  constructor(
    redisUrl: string,
    private readonly pool: ChunkBufferPool,
    /**
     * A reply slower than this fails the connection (a hung Redis must not hang the pipeline); callers retry on a new
     * one.
     */
    private readonly replyTimeoutMs = 30_000,
  ) {
    const url = new URL(redisUrl);
    if (url.protocol !== 'redis:')
      throw new FerError(
        'unsupported_redis_url',
        `the chunk connection supports redis:// URLs only, got ${url.protocol}`,
      );
    this.socket = net.connect({
      // URL keeps IPv6 literals in brackets ([::1]); net wants the bare address.
      host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
      port: Number(url.port || 6379),
      noDelay: true,
      // Reads land in this one buffer (no allocation per read); onData copies them out at once.
      onread: {
        buffer: Buffer.allocUnsafe(1 << 20),
        callback: (n, buf) => {
          this.onData(Buffer.from(buf.buffer, buf.byteOffset, n));
          return true;
        },
      },
    });
    this.socket.on('error', (error) =>
      this.fail(new FerError('redis_unavailable', `chunk connection to Redis failed: ${error.message}`)),
    );
    this.socket.on('close', () => this.fail(new FerError('redis_unavailable', 'chunk connection to Redis closed')));
    const setup: Array<Promise<unknown>> = [];
    const password = decodeURIComponent(url.password);
    const username = decodeURIComponent(url.username);
    if (password) setup.push(this.command(username ? ['AUTH', username, password] : ['AUTH', password], false));
    const db = Number(url.pathname.slice(1) || 0);
    if (db) setup.push(this.command(['SELECT', String(db)], false));
    this.ready = Promise.all(setup).then(() => undefined);
    this.ready.catch(() => undefined);
  }

  /** The value of `key` in a pooled buffer (hand it back with pool.release), or null when missing. */
  async get(key: string): Promise<Buffer | null> {
    await this.ready;
    return (await this.command(['GET', key], true)) as Buffer | null;
  }

  /**
   * Stores `data` under `key` with a TTL. Resolves once Redis has the whole value (its +OK), after
   * which the buffer may be reused.
   */
  async set(key: string, data: Uint8Array, ttlSeconds: number): Promise<void> {
    await this.ready;
    await this.command(['SET', key, data, 'EX', String(Math.max(1, Math.ceil(ttlSeconds)))], false);
  }

  /** False once the connection failed; make a new connection then. */
  get healthy(): boolean {
    return this.failed === undefined;
  }

  close(): void {
    this.failed ??= new FerError('redis_unavailable', 'chunk connection closed');
    clearTimeout(this.timer);
    this.socket.destroy();
  }

  /** Watches the oldest pending reply: when none arrives for replyTimeoutMs, the connection fails. */
  private armTimer(): void {
    clearTimeout(this.timer);
    if (this.pending.length === 0 || this.failed) return;
    this.timer = setTimeout(() => {
      if (this.pending.length === 0) return;
      this.fail(
        new FerError('redis_unavailable', `chunk connection to Redis: no reply within ${this.replyTimeoutMs} ms`),
      );
      this.socket.destroy();
    }, this.replyTimeoutMs);
    this.timer.unref();
  }

  /** Sends one command; binary arguments go to the socket as they are (corked into one writev), never copied. */
  private command(args: ReadonlyArray<string | Uint8Array>, bulk: boolean): Promise<Buffer | null | string> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) this.armTimer();
      this.pending.push({ resolve, reject, bulk });
      this.socket.cork();
      let text = `*${args.length}\r\n`;
      for (const arg of args) {
        if (typeof arg === 'string') {
          text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
          continue;
        }
        this.socket.write(`${text}$${arg.byteLength}\r\n`);
        this.socket.write(arg);
        text = '\r\n';
      }
      this.socket.write(text);
      this.socket.uncork();
    });
  }

  private fail(error: Error): void {
    this.failed ??= error;
    clearTimeout(this.timer);
    for (const p of this.pending.splice(0)) p.reject(error);
  }

  private onData(data: Buffer): void {
    // Data is arriving: the reply is not stuck (a 5 MB reply may take a while on a slow link).
    this.armTimer();
    let offset = 0;
    while (offset < data.length) {
      if (this.trailer > 0) {
        const skip = Math.min(this.trailer, data.length - offset);
        this.trailer -= skip;
        offset += skip;
        continue;
      }
      if (this.body) {
        const take = Math.min(this.body.length - this.bodyFilled, data.length - offset);
        data.copy(this.body, this.bodyFilled, offset, offset + take);
        this.bodyFilled += take;
        offset += take;
        if (this.bodyFilled === this.body.length) {
          const body = this.body;
          this.body = undefined;
          this.trailer = 2;
          this.pending.shift()?.resolve(body);
        }
        continue;
      }
      const lineEnd = data.indexOf(10, offset);
      if (lineEnd === -1) {
        this.header += data.toString('latin1', offset);
        return;
      }
      const line = (this.header + data.toString('latin1', offset, lineEnd)).replace(/\r$/, '');
      this.header = '';
      offset = lineEnd + 1;
      this.onHeader(line);
    }
  }

  private onHeader(line: string): void {
    const kind = line[0];
    if (kind === '-') {
      // A master demoted by a Sentinel failover (or a replica) refuses writes: this connection is
      // done; the caller retries on a new one, made to wherever the master is now.
      if (line.startsWith('-READONLY')) {
        this.pending.shift()?.reject(new FerError('redis_unavailable', `Redis: ${line.slice(1)}`));
        this.fail(new FerError('redis_unavailable', 'chunk connection reached a read-only replica'));
        return;
      }
      // A Redis Cluster node that does not (or no longer) own the key's slot: the caller re-routes.
      // A full Redis (maxmemory) refuses the write but stays usable: the caller waits and retries.
      const code = /^-(MOVED|ASK) /.test(line)
        ? 'redis_moved'
        : line.startsWith('-OOM ')
          ? 'redis_full'
          : 'redis_error';
      this.pending.shift()?.reject(new FerError(code, `Redis: ${line.slice(1)}`));
    } else if (kind === '+' || kind === ':') {
      this.pending.shift()?.resolve(line.slice(1));
    } else if (kind === '$') {
      const length = Number(line.slice(1));
      if (length < 0) this.pending.shift()?.resolve(null);
      else if (length === 0) {
        this.trailer = 2;
        this.pending.shift()?.resolve(Buffer.alloc(0));
      } else {
        const bulk = this.pending[0]?.bulk ?? true;
        this.body = bulk ? this.pool.acquire(length) : Buffer.allocUnsafe(length);
        this.bodyFilled = 0;
      }
    } else {
      this.fail(new FerError('redis_protocol', `unexpected reply from Redis: ${line.slice(0, 80)}`));
      this.socket.destroy();
    }
  }
}
