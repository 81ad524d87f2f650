import { Gauge } from 'prom-client';
import type { Registry } from './registry.ts';
import { onePerScrape } from './scrape-read.ts';

/** What the upload volume gauges read when scraped: the volume's free bytes and the floor the API keeps. */
export type UploadVolumeSource = () => Promise<{ freeBytes: number; minFreeBytes: number }>;

/**
 * `ferstream_upload_volume_free_bytes` and `ferstream_upload_volume_min_free_bytes` (API processes):
 * how close the upload volume is to the floor under which uploads are refused with 507, so an
 * alert comes before the first user's refusal. Every API replica sees the same shared volume:
 * aggregate with `min`. A failed read leaves the series out of that scrape.
 */
export function registerUploadVolumeMetrics(
  registry: Registry,
  read: UploadVolumeSource,
  onError?: (error: Error) => void,
): void {
  const once = onePerScrape(read, onError);
  new Gauge({
    name: 'ferstream_upload_volume_free_bytes',
    help: 'Free bytes on the upload volume (FER_UPLOAD_DIR), read at scrape time. Replicas share the volume: aggregate with min.',
    registers: [registry],
    async collect() {
      const volume = await once();
      this.reset();
      if (volume !== null) this.set(volume.freeBytes);
    },
  });
  new Gauge({
    name: 'ferstream_upload_volume_min_free_bytes',
    help: 'Free bytes uploads must leave on the upload volume (FER_UPLOAD_MIN_FREE_BYTES): below it they are refused with 507.',
    registers: [registry],
    async collect() {
      const volume = await once();
      this.reset();
      if (volume !== null) this.set(volume.minFreeBytes);
    },
  });
}
