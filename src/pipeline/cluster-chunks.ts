// Frame chunks on a Redis Cluster through the binary chunk client (chunk-connection.ts): one
// ChunkConnection per master, chosen by the key's hash slot from the cluster's own slot map
// (CLUSTER SLOTS). When a slot has moved (MOVED/ASK after a resharding or failover) the map is
// read again and that one command goes through ioredis's Cluster, which follows redirections.

import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { ChunkConnection, type ChunkBufferPool, type ChunkStore } from './chunk-connection.ts';
import { FerError } from '../core/errors.ts';
import { isRedisUnavailable } from './connection-watch.ts';

export class ClusterChunkRouter implements ChunkStore {
  private masters: string[] | null = null;
  private refreshing: Promise<string[] | null> | null = null;
  private readonly connections = new Map<string, ChunkConnection>();
  private closed = false;
  /** Commands that met MOVED/ASK (a slot moved) and went through ioredis instead. */
  redirected = 0;

  constructor(
    private readonly cluster: Cluster,
    /** Credentials (and nothing else) for the chunk connections: `redis://user:pass@` of REDIS_URL. */
    private readonly credentialsUrl: URL,
    private readonly pool: ChunkBufferPool,
  ) {}

  get healthy(): boolean {
    return !this.closed;
  }

  get(key: string): Promise<Buffer | null> {
    return this.route(
      key,
      (c) => c.get(key),
      () => this.cluster.getBuffer(key),
    );
  }

  async set(key: string, data: Uint8Array, ttlSeconds: number): Promise<void> {
    await this.route(
      key,
      (c) => c.set(key, data, ttlSeconds),
      () =>
        this.cluster.set(
          key,
          Buffer.from(data.buffer, data.byteOffset, data.byteLength),
          'EX',
          Math.max(1, Math.ceil(ttlSeconds)),
        ),
    );
  }

  close(): void {
    this.closed = true;
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }

  private async route<T>(
    key: string,
    direct: (c: ChunkConnection) => Promise<T>,
    viaCluster: () => Promise<unknown>,
  ): Promise<T> {
    const masters = this.masters ?? (await this.refresh());
    const node = masters?.[calculateSlot(key)];
    if (!node) return (await viaCluster()) as T;
    try {
      return await direct(this.connectionTo(node));
    } catch (error) {
      // A master gone (a failover under way): read the slot map again on the next attempt, which
      // the caller makes (retryAcrossOutage) once a replica has taken over its slots.
      if (isRedisUnavailable(error)) this.masters = null;
      if (!(error instanceof FerError && error.code === 'redis_moved')) throw error;
      this.masters = null;
      this.redirected += 1;
      return (await viaCluster()) as T;
    }
  }

  private connectionTo(node: string): ChunkConnection {
    let connection = this.connections.get(node);
    if (!connection?.healthy) {
      connection?.close();
      const url = new URL(this.credentialsUrl);
      const [host, port] = [node.slice(0, node.lastIndexOf(':')), node.slice(node.lastIndexOf(':') + 1)];
      url.hostname = host.includes(':') ? `[${host}]` : host;
      url.port = port;
      url.pathname = '';
      connection = new ChunkConnection(url.toString(), this.pool);
      this.connections.set(node, connection);
    }
    return connection;
  }

  /** Slot → "host:port" of its master, from CLUSTER SLOTS; null while the cluster cannot say (ioredis carries on). */
  private refresh(): Promise<string[] | null> {
    this.refreshing ??= (async () => {
      try {
        const ranges = await this.cluster.cluster('SLOTS');
        const masters: string[] = new Array(16384);
        for (const [start, end, master] of ranges) {
          if (!master) return null; // a range without a master (failing over): the cluster cannot say yet
          const [host, port] = master;
          for (let slot = start; slot <= end; slot += 1) masters[slot] = `${host}:${port}`;
        }
        this.masters = masters;
        return masters;
      } catch {
        return null;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}
