import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { OwnRedis } from './own-redis.ts';

// A Redis Cluster of our own redis-servers on loopback (the cluster and cluster-failover tests):
// started, joined by redis-cli, and ready — every node sees an ok cluster and every replica has
// synced — before anything depends on it.

export function redisCli(...args: string[]): string {
  const run = spawnSync('redis-cli', args, { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${run.stderr || run.stdout}`);
  return run.stdout;
}

export async function startCluster(options: {
  masters: number;
  replicasPerMaster?: number;
  nodeTimeoutMs: number;
}): Promise<OwnRedis[]> {
  const replicas = options.replicasPerMaster ?? 0;
  const nodes: OwnRedis[] = [];
  for (let i = 0; i < options.masters * (1 + replicas); i++) {
    nodes.push(
      await OwnRedis.start({
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-node-timeout',
          String(options.nodeTimeoutMs),
          '--repl-diskless-sync-delay',
          '0',
        ],
      }),
    );
  }
  redisCli(
    '--cluster',
    'create',
    ...nodes.map((n) => `127.0.0.1:${n.port}`),
    ...(replicas ? ['--cluster-replicas', String(replicas)] : []),
    '--cluster-yes',
  );
  for (const n of nodes) {
    const client = new Redis({ port: n.port });
    for (let waited = 0; waited < 30_000; waited += 100) {
      const info = String(await client.call('CLUSTER', 'INFO'));
      const replication = await client.info('replication');
      if (
        /cluster_state:ok/.test(info) &&
        (/role:master/.test(replication) || /master_link_status:up/.test(replication))
      )
        break;
      await sleep(100);
    }
    client.disconnect();
  }
  return nodes;
}
