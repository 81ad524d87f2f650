// Opening the pipeline's Redis connections: one server (REDIS_URL), a Sentinel-monitored master
// (FER_REDIS_SENTINELS) or a Redis Cluster (FER_REDIS_CLUSTER). Every connection gets the same
// retry policy and the outage watcher; the URL always carries the credentials and database.

import { Cluster, Redis } from 'ioredis';
import { watchConnection, type ConnectionEvents } from './connection-watch.ts';

/** A pipeline connection: one server (or a Sentinel-found master), or a Redis Cluster client. */
export type RedisClient = Redis | Cluster;

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export interface RedisTopology {
  /** redis:// or rediss:// URL; with sentinels or a cluster, only its credentials and database count. */
  readonly redisUrl: string;
  /** Redis Sentinel: the sentinels to ask for the master of `name`. */
  readonly sentinel?: { readonly sentinels: readonly RedisNode[]; readonly name: string };
  /** Redis Cluster: some of its nodes (the rest are discovered). */
  readonly cluster?: { readonly nodes: readonly RedisNode[] };
}

/** "host:port,host:port" (FER_REDIS_SENTINELS, FER_REDIS_CLUSTER) as a node list. */
export function parseNodes(list: string): RedisNode[] {
  return list.split(',').map((entry) => {
    const trimmed = entry.trim();
    const colon = trimmed.lastIndexOf(':');
    return { host: trimmed.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(trimmed.slice(colon + 1)) };
  });
}

/** A connection opener for one topology; each call makes a new connection named redis-1, redis-2, … for the watcher. */
export function connectionFactory(
  topology: RedisTopology,
  events: ConnectionEvents,
): (failFast?: boolean) => RedisClient {
  let connections = 0;
  const url = new URL(topology.redisUrl);
  const credentials = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
  return (failFast = false) => {
    // BullMQ requires maxRetriesPerRequest null on connections that block (workers): commands wait
    // through an outage and are resent after the reconnect (every pipeline write is idempotent).
    // Reconnects back off up to 2 s, so a restarted Redis is found again within about 2 s.
    const common = {
      maxRetriesPerRequest: failFast ? 0 : null,
      enableOfflineQueue: !failFast,
      autoResendUnfulfilledCommands: !failFast,
      lazyConnect: false,
      retryStrategy: (times: number) => Math.min(2000, 50 * 2 ** Math.min(times, 6)),
    };
    let connection: RedisClient;
    if (topology.cluster) {
      // ioredis's Cluster routes every command by slot and follows MOVED/ASK; a failover's new
      // master is found by refreshing the slot map. It is used wherever a Redis is (BullMQ included).
      const cluster = new Cluster([...topology.cluster.nodes], {
        redisOptions: { ...common, ...credentials, ...(url.protocol === 'rediss:' ? { tls: {} } : {}) },
        enableOfflineQueue: !failFast,
        clusterRetryStrategy: (times: number) => Math.min(2000, 100 * times),
        // A replica promoted by a failover takes a few seconds (node timeout + election): keep
        // asking through CLUSTERDOWN / failover for about 20 s (64 tries × 300 ms) before failing.
        retryDelayOnClusterDown: 300,
        retryDelayOnFailover: 300,
        retryDelayOnTryAgain: 200,
        maxRedirections: 64,
        slotsRefreshTimeout: 2000,
      });
      connection = cluster;
    } else if (topology.sentinel) {
      // Every (re)connect asks the sentinels where the master is: after a failover the connections
      // find the promoted replica; the URL still carries credentials and database.
      connection = new Redis({
        ...common,
        ...credentials,
        sentinels: [...topology.sentinel.sentinels],
        name: topology.sentinel.name,
        db: Number(url.pathname.slice(1) || 0),
        sentinelRetryStrategy: (times: number) => Math.min(2000, 100 * times),
        // A master demoted by a failover answers READONLY: reconnect, which asks the sentinels again.
        reconnectOnError: (error: Error) => (error.message.startsWith('READONLY') ? 2 : false),
      });
    } else if (url.protocol === 'unix:') {
      // unix:///path/to/redis.sock (the one-machine commands' private Redis, src/cli/private-redis.ts).
      connection = new Redis({ ...common, ...credentials, path: decodeURIComponent(url.pathname) });
    } else {
      connection = new Redis(topology.redisUrl, common);
    }
    watchConnection(connection, `redis-${++connections}`, events);
    return connection;
  };
}

/** True when `redis` is a Redis Cluster client. */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis.isCluster;
}
