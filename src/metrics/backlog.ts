import { Gauge } from 'prom-client';
import type { Registry } from './registry.ts';
import { onePerScrape } from './scrape-read.ts';

/** What the backlog gauges read when scraped: null while another process is the exporter. */
export type BacklogSource = () => Promise<{ chunks: number; frames: number; oldestSeconds: number } | null>;

/**
 * `ferstream_frames_backlog{unit="chunks"|"frames"}` and `ferstream_frames_backlog_oldest_seconds`:
 * work not yet taken by any worker (src/pipeline/backlog.ts), what autoscalers scale on. Only the
 * process holding the exporter lease has the series; every other process exports none, so
 * `sum()` over all processes counts the backlog once. A Redis error leaves the series out of
 * that scrape (no stale value for an autoscaler to act on).
 */
export function registerBacklogMetrics(
  registry: Registry,
  read: BacklogSource,
  onError?: (error: Error) => void,
): void {
  // Both gauges are collected in one scrape: one read for both.
  const once = onePerScrape(read, onError);
  new Gauge({
    name: 'ferstream_frames_backlog',
    help: 'Frame chunks (unit="chunks") and frames (unit="frames") waiting for a worker: waiting + prioritized + delayed. Exported by one process at a time: sum() counts it once.',
    labelNames: ['unit'] as const,
    registers: [registry],
    async collect() {
      const backlog = await once();
      this.reset();
      if (!backlog) return;
      this.set({ unit: 'chunks' }, backlog.chunks);
      this.set({ unit: 'frames' }, backlog.frames);
    },
  });
  new Gauge({
    name: 'ferstream_frames_backlog_oldest_seconds',
    help: 'Age of the oldest of the next frame chunks to be served (0 when none waits). Exported by one process at a time.',
    registers: [registry],
    async collect() {
      const backlog = await once();
      this.reset();
      if (backlog) this.set(backlog.oldestSeconds);
    },
  });
}
