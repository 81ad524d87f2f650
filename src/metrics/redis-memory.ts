import { Gauge } from 'prom-client';
import type { Registry } from './registry.ts';
import { onePerScrape } from './scrape-read.ts';

/** What the Redis memory gauges read when scraped: per node (the one, or each cluster master). */
export type RedisMemorySource = () => Promise<ReadonlyArray<{ node: string; usedBytes: number; maxBytes: number }>>;

/**
 * `ferstream_redis_used_memory_bytes{node}` and `ferstream_redis_maxmemory_bytes{node}` (API
 * processes, from INFO memory at scrape time): Redis evicts nothing, so at its maxmemory every
 * write waits; the alert FerStreamRedisMemoryHigh comes before. Replicas read the same Redis:
 * aggregate with max. A failed read leaves the series out of that scrape.
 */
export function registerRedisMemoryMetrics(
  registry: Registry,
  read: RedisMemorySource,
  onError?: (error: Error) => void,
): void {
  const once = onePerScrape(read, onError);
  const gauge = (name: string, help: string, value: (node: { usedBytes: number; maxBytes: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['node'] as const,
      registers: [registry],
      async collect() {
        const nodes = await once();
        this.reset();
        for (const node of nodes ?? []) this.set({ node: node.node }, value(node));
      },
    });
  gauge(
    'ferstream_redis_used_memory_bytes',
    "Memory the pipeline's Redis uses (INFO used_memory), per node (primary, or each cluster master). Aggregate with max.",
    (n) => n.usedBytes,
  );
  gauge(
    'ferstream_redis_maxmemory_bytes',
    'Its maxmemory (0 = none set): at it, every write is refused and the pipeline waits (noeviction).',
    (n) => n.maxBytes,
  );
}
