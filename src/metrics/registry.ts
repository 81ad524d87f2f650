import { collectDefaultMetrics, Registry } from 'prom-client';

export type { Registry };

/** What a process is, as its `role` label on `ferstream_build_info` says. */
export type ProcessRole = 'api' | 'worker' | 'producer' | 'analyze' | 'serve';

/**
 * The one Prometheus registry of a process, with prom-client's default Node.js metrics
 * (CPU, memory, GC, handles, event-loop lag from perf_hooks.monitorEventLoopDelay). Pipeline
 * metrics are added to it by `pipelineMetrics(registry)` (through `createMetricsObserver`).
 * Not prom-client's global registry: tests create several side by side.
 */
export function createMetricsRegistry(options: { eventLoopResolutionMs?: number } = {}): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: options.eventLoopResolutionMs ?? 10 });
  return registry;
}
