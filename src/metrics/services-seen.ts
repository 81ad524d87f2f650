import { Gauge, type Registry } from 'prom-client';
import { onePerScrape } from './scrape-read.ts';

/** Reads how many producers and workers have a recent heartbeat (e.g. `() => servicesSeen(pipeline, s)`). */
export type ServicesSeenSource = () => Promise<Record<string, number>>;

/**
 * `ferstream_services_seen{role}`: producer and worker processes with a heartbeat in Redis within
 * FER_SERVICE_SEEN_SECONDS. Every API replica reads the same Redis: aggregate with max. Zero for a
 * role while videos wait is the alert FerStreamNoWorkerSeen / FerStreamNoProducerSeen.
 */
export function registerServicesSeenMetrics(
  registry: Registry,
  read: ServicesSeenSource,
  onError?: (error: Error) => void,
): void {
  const once = onePerScrape(read, onError);
  new Gauge({
    name: 'ferstream_services_seen',
    help: 'Producer and worker processes with a heartbeat in Redis within FER_SERVICE_SEEN_SECONDS, by role. Aggregate with max.',
    labelNames: ['role'] as const,
    registers: [registry],
    async collect() {
      const seen = await once();
      this.reset();
      for (const [role, count] of Object.entries(seen ?? {})) this.set({ role }, count);
    },
  });
}
