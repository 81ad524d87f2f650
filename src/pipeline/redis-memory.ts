import type { Pipeline } from './context.ts';
import { isCluster } from './connections.ts';

// How full the pipeline's Redis is. It evicts nothing (BullMQ needs noeviction), so at its
// maxmemory every write is refused and the pipeline waits (docs/operations.md "Failure modes"); exported as
// gauges so that an alert comes before that. One node without a cluster; every master with one.

export interface RedisMemory {
  /** `primary` without a cluster; a cluster master's host:port. */
  readonly node: string;
  readonly usedBytes: number;
  /** Its maxmemory; 0 = none set (bounded only by the machine). */
  readonly maxBytes: number;
}

function parse(node: string, info: string): RedisMemory {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { node, usedBytes: field('used_memory'), maxBytes: field('maxmemory') };
}

export async function redisMemory(pipeline: Pipeline): Promise<RedisMemory[]> {
  const { redis } = pipeline;
  if (!isCluster(redis)) return [parse('primary', await redis.info('memory'))];
  const masters = redis.nodes('master');
  return Promise.all(
    masters.map(async (node) => parse(`${node.options.host}:${node.options.port}`, await node.info('memory'))),
  );
}
