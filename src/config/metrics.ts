import { z } from 'zod';
import { envBoolean, int } from './env.ts';

/**
 * Where a long-running process (API, worker, producer) serves `/metrics` and `/healthz`.
 * Documented in docs/configuration.md and "Metrics".
 *
 * Several processes on one host: the server tries `port`, `port + 1`, … up to `portAttempts`
 * ports and takes the first free one (logged), so e.g. four workers get 9464–9467 and a static
 * Prometheus target list over that range finds them all. `port: 0` takes an ephemeral port instead
 * (also logged). In containers every replica has its own address, so the default port is enough.
 */
export const metricsSchema = z.object({
  enabled: envBoolean.default(true),
  host: z.string().min(1).default('0.0.0.0'),
  /** First port tried; 0 = an ephemeral port chosen by the OS. */
  port: int(0, 65_535).default(9464),
  /** Consecutive ports tried from `port` when it is taken (1 = only `port`, fail if taken). */
  portAttempts: int(1, 1000).default(10),
  /** Node.js event-loop lag histogram resolution (prom-client's monitorEventLoopDelay), ms. */
  eventLoopResolutionMs: int(1, 1000).default(10),
  /** How often the queue-depth gauges ask Redis at most (scrapes in between reuse the last answer), ms. */
  queueStatsTtlMs: int(0, 60_000).default(1000),
});

export type MetricsConfig = z.infer<typeof metricsSchema>;

export const metricsEnv = {
  enabled: 'FER_METRICS_ENABLED',
  host: 'FER_METRICS_HOST',
  port: 'FER_METRICS_PORT',
  portAttempts: 'FER_METRICS_PORT_ATTEMPTS',
  eventLoopResolutionMs: 'FER_METRICS_EVENT_LOOP_RESOLUTION_MS',
  queueStatsTtlMs: 'FER_METRICS_QUEUE_STATS_TTL_MS',
} as const;
