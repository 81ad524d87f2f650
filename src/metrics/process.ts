import { registerServicesSeenMetrics, type ServicesSeenSource } from './services-seen.ts';
import type { MetricsConfig } from '../config/metrics.ts';
import type { Logger } from '../core/logger.ts';
import type { InferenceStage, PipelineObserver } from '../core/observer.ts';
import { registerBacklogMetrics, type BacklogSource } from './backlog.ts';
import { setBuildInfo, type BuildInfo } from './build-info.ts';
import { createMetricsObserver, declareInferenceStages } from './observer.ts';
import { pipelineMetrics } from './pipeline-metrics.ts';
import { registerQueueMetrics, type QueueStatsSource } from './queues.ts';
import { registerRedisMemoryMetrics, type RedisMemorySource } from './redis-memory.ts';
import { registerUploadVolumeMetrics, type UploadVolumeSource } from './upload-volume.ts';
import { createMetricsRegistry, type ProcessRole, type Registry } from './registry.ts';
import { startMetricsServer, type HealthReport, type MetricsServer } from './server.ts';

export interface ProcessMetrics {
  readonly registry: Registry;
  /** Pass this to producer / worker / aggregator code. */
  readonly observer: PipelineObserver;
  /** Absent when metrics are disabled (FER_METRICS_ENABLED=0). */
  readonly server?: MetricsServer;
  /** Updates `ferstream_build_info` (e.g. once the model has loaded and its provider is known). */
  setBuildInfo(info: Omit<BuildInfo, 'role'>): void;
  /** Creates the inference series of these stages at zero (see `declareInferenceStages`). */
  declareInference(stages: readonly InferenceStage[], provider: string): void;
  /** Adds queue-depth gauges for these BullMQ queues. */
  watchQueues(queues: readonly QueueStatsSource[]): void;
  /**
   * Reads the frames held in Redis when scraped (e.g. `() => heldFrames(pipeline)`), so the gauges
   * follow workers draining chunks, not only the producer's last reservation.
   */
  watchHeldFrames(read: () => Promise<{ frames: number; bytes: number }>): void;
  /**
   * Exports the backlog autoscalers scale on (e.g. `backlogExporter(pipeline)`: only while this process holds the
   * lease).
   */
  watchBacklog(read: BacklogSource): void;
  /** Exports how full the pipeline's Redis is (e.g. `() => redisMemory(pipeline)`; API processes). */
  watchRedisMemory(read: RedisMemorySource): void;
  /** Exports the upload volume's free space and floor (API processes). */
  watchUploadVolume(read: UploadVolumeSource): void;
  /** Exports ferstream_services_seen (API processes): producers and workers with a recent heartbeat. */
  watchServices(read: ServicesSeenSource): void;
  close(): Promise<void>;
}

/**
 * Everything a long-running process's entry point needs for observability, in one call:
 * the registry (with default Node metrics), the pipeline observer, `ferstream_build_info`, and the
 * `/metrics` + `/healthz` server on the configured port.
 */
export async function startProcessMetrics(
  config: MetricsConfig,
  options: {
    role: ProcessRole;
    logger?: Logger;
    health?: () => HealthReport | Promise<HealthReport>;
    build?: Omit<BuildInfo, 'role'>;
  },
): Promise<ProcessMetrics> {
  const registry = createMetricsRegistry({ eventLoopResolutionMs: config.eventLoopResolutionMs });
  const observer = createMetricsObserver(registry);
  setBuildInfo(registry, { role: options.role, ...options.build });
  let watching = false;
  const server = config.enabled
    ? await startMetricsServer({
        registry,
        host: config.host,
        port: config.port,
        portAttempts: config.portAttempts,
        health: options.health,
        logger: options.logger,
      })
    : undefined;
  return {
    registry,
    observer,
    server,
    setBuildInfo: (info) => setBuildInfo(registry, { role: options.role, ...info }),
    watchQueues(queues) {
      if (watching) throw new Error('queue metrics are already registered for this process');
      watching = true;
      registerQueueMetrics(registry, queues, {
        ttlMs: config.queueStatsTtlMs,
        onError: (error) => options.logger?.warn({ err: error }, 'reading queue depths for metrics failed'),
      });
    },
    declareInference: (stages, provider) => declareInferenceStages(registry, stages, provider),
    watchHeldFrames(read) {
      pipelineMetrics(registry).heldSource.current = { read };
    },
    watchBacklog(read) {
      registerBacklogMetrics(registry, read, (error) =>
        options.logger?.warn({ err: error }, 'reading the backlog for metrics failed'),
      );
    },
    watchRedisMemory(read) {
      registerRedisMemoryMetrics(registry, read, (error) =>
        options.logger?.warn({ err: error }, 'reading Redis memory for metrics failed'),
      );
    },
    watchUploadVolume(read) {
      registerUploadVolumeMetrics(registry, read, (error) =>
        options.logger?.warn({ err: error }, "reading the upload volume's free space failed"),
      );
    },
    watchServices(read) {
      registerServicesSeenMetrics(registry, read, (error) =>
        options.logger?.warn({ err: error }, "reading the services' heartbeats for metrics failed"),
      );
    },
    close: async () => {
      await server?.close();
    },
  };
}
