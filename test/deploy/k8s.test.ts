// deploy/k8s rendered by the real kustomize (`kubectl kustomize`), both overlays, every workload
// checked: resources, probes on /healthz and /readyz, non-root and locked-down containers, grace
// periods above the graceful-stop deadline, image names, the GPU worker's GPU and node selector,
// the API token from a Secret, disruption budgets, the KEDA ScaledObjects. Then the ScaledObject's
// own query, run by a real Prometheus scraping a real producer with a backlog (no worker running),
// must equal the frames actually waiting, read job by job from Redis.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { startProcessMetrics } from '../../src/metrics/process.ts';
import { backlogExporter, createPipeline, submitVideo } from '../../src/pipeline/index.ts';
import { startProducer } from '../../src/producer/index.ts';
import { repoRoot } from '../helpers/cli-processes.ts';
import { freePort, startPrometheus } from '../helpers/prometheus.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { describeWithTools } from '../helpers/system-tools.ts';
import { generateTestVideo } from '../helpers/videos.ts';

type Doc = { kind: string; metadata: { name: string; namespace?: string }; spec?: any; data?: Record<string, string> };
const render = (overlay: string): Doc[] =>
  parseAllDocuments(
    execFileSync('kubectl', ['kustomize', path.join(repoRoot, 'deploy', 'k8s', 'overlays', overlay)], {
      encoding: 'utf8',
    }),
  ).map((d) => d.toJSON() as Doc);

describeWithTools('deploy/k8s', ['kubectl'], () => {
  // Rendered on first use, not at collection: a machine without kubectl skips instead of crashing.
  let rendered: { gpu: Doc[]; cpu: Doc[] } | undefined;
  const overlays = () => (rendered ??= { gpu: render('gpu'), cpu: render('cpu') });
  const workloads = (docs: Doc[]) => docs.filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet');
  const byName = (docs: Doc[], kind: string, name: string) =>
    docs.find((d) => d.kind === kind && d.metadata.name === name)!;
  const ours = ['fer-stream-api', 'fer-stream-producer', 'fer-stream-worker', 'fer-stream-worker-gpu'];

  it('renders both overlays into one namespace; the GPU overlay adds exactly the GPU worker and its scaler', () => {
    const { gpu, cpu } = overlays();
    expect(new Set(gpu.map((d) => d.metadata.namespace ?? 'fer-stream'))).toEqual(new Set(['fer-stream']));
    const names = (docs: Doc[]) => docs.map((d) => `${d.kind}/${d.metadata.name}`).sort();
    expect(names(gpu).filter((n) => !names(cpu).includes(n))).toEqual([
      'Deployment/fer-stream-worker-gpu',
      'ScaledObject/fer-stream-worker-gpu',
    ]);
    expect(names(cpu)).toContain('ScaledObject/fer-stream-producer');
    expect(
      workloads(gpu)
        .map((w) => w.metadata.name)
        .sort(),
    ).toEqual([
      'fer-stream-alertmanager',
      'fer-stream-api',
      'fer-stream-grafana',
      'fer-stream-producer',
      'fer-stream-prometheus',
      'fer-stream-redis',
      'fer-stream-worker',
      'fer-stream-worker-gpu',
    ]);
  });

  it('every workload: resources, probes, non-root locked-down containers, a grace period above the stop deadline', () => {
    const { gpu } = overlays();
    const stopSeconds = Number(byName(gpu, 'ConfigMap', 'fer-stream-config').data!.FER_STOP_TIMEOUT_MS) / 1000;
    for (const w of workloads(gpu)) {
      const pod = w.spec.template.spec;
      const where = w.metadata.name;
      expect(pod.securityContext.runAsNonRoot, where).toBe(true);
      expect(pod.securityContext.runAsUser, where).toBeGreaterThan(0);
      for (const c of pod.containers) {
        for (const k of ['requests', 'limits'])
          for (const r of ['cpu', 'memory']) expect(c.resources?.[k]?.[r], `${where} ${k}.${r}`).toBeDefined();
        expect(c.livenessProbe, `${where} liveness`).toBeDefined();
        expect(c.readinessProbe, `${where} readiness`).toBeDefined();
        expect(c.securityContext, where).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
      if (!ours.includes(where)) continue;
      const [c] = pod.containers;
      expect(c.livenessProbe.httpGet.path, where).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path, where).toBe('/readyz');
      expect(c.image, where).toBe(
        where === 'fer-stream-worker-gpu'
          ? 'registry.example.com/fer-stream:gpu-0.1.0'
          : 'registry.example.com/fer-stream:cpu-0.1.0',
      );
      expect(pod.template?.metadata?.annotations ?? w.spec.template.metadata.annotations, where).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9464',
      });
      if (where !== 'fer-stream-api')
        expect(pod.terminationGracePeriodSeconds, where).toBeGreaterThanOrEqual(stopSeconds + 10);
    }
    const gpuPod = byName(gpu, 'Deployment', 'fer-stream-worker-gpu').spec.template.spec;
    expect(gpuPod.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    expect(gpuPod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(gpuPod.containers[0].env).toContainEqual({ name: 'FER_EXECUTION_PROVIDERS', value: 'cuda,cpu' });
    const api = byName(gpu, 'Deployment', 'fer-stream-api').spec.template.spec.containers[0];
    expect(api.env).toContainEqual({
      name: 'FER_API_TOKENS',
      valueFrom: { secretKeyRef: { name: 'fer-stream-api-tokens', key: 'FER_API_TOKENS' } },
    });
    expect(byName(gpu, 'StatefulSet', 'fer-stream-redis').spec.template.spec.containers[0].args.join(' ')).toMatch(
      /--appendonly yes.*--maxmemory-policy noeviction/,
    );
    expect(byName(gpu, 'StatefulSet', 'fer-stream-redis').spec.volumeClaimTemplates).toHaveLength(1);
    for (const name of ['fer-stream-api', 'fer-stream-worker'])
      expect(byName(gpu, 'PodDisruptionBudget', name).spec.selector.matchLabels).toEqual({
        'app.kubernetes.io/name': name,
      });
  });

  it('KEDA scales each worker kind on the backlog, down to zero', () => {
    const { gpu } = overlays();
    for (const name of ['fer-stream-worker', 'fer-stream-worker-gpu']) {
      const scaler = byName(gpu, 'ScaledObject', name).spec;
      expect(scaler.scaleTargetRef.name).toBe(name);
      expect(scaler.minReplicaCount).toBe(0);
      expect(scaler.maxReplicaCount).toBeGreaterThan(0);
      expect(scaler.cooldownPeriod).toBeGreaterThan(0);
      expect(scaler.triggers).toEqual([
        expect.objectContaining({
          type: 'prometheus',
          metadata: expect.objectContaining({
            query: 'sum(ferstream_frames_backlog{unit="frames"})',
            serverAddress: 'http://prometheus.fer-stream.svc.cluster.local:9090',
          }),
        }),
      ]);
    }
  });

  it('KEDA scales the producers on their own backlog (videos waiting or being produced), FER_PRODUCER_CONCURRENCY videos per replica, never below one', () => {
    const { cpu } = overlays();
    const scaler = byName(cpu, 'ScaledObject', 'fer-stream-producer').spec;
    expect(scaler.scaleTargetRef.name).toBe('fer-stream-producer');
    expect(scaler.minReplicaCount).toBe(1);
    expect(scaler.maxReplicaCount).toBeGreaterThan(1);
    const [trigger] = scaler.triggers;
    expect(trigger.metadata.query).toMatch(/ferstream_queue_jobs\{queue="videos"/);
    expect(Number(trigger.metadata.threshold)).toBe(
      loadConfig({ ...byName(cpu, 'ConfigMap', 'fer-stream-config').data }).pipeline.producerConcurrency,
    );
  });

  describeWithTools('the ScaledObject query against a real Prometheus', ['prometheus', 'ffmpeg'], () => {
    const { prefix, cleanup } = testPrefix(import.meta.url);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-k8s-'));
    afterAll(async () => {
      await cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('equals the frames actually waiting in Redis', async () => {
      const query = byName(overlays().gpu, 'ScaledObject', 'fer-stream-worker').spec.triggers[0].metadata
        .query as string;
      const port = await freePort();
      const config = loadConfig(
        { FER_METRICS_PORT: String(port), FER_METRICS_HOST: '127.0.0.1', FER_METRICS_PORT_ATTEMPTS: '1' },
        { pipeline: { fps: 5, chunkFrames: 4, redisFrameBudgetBytes: 64 * 48 * 3 * 4 * 9 } },
      );
      const pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
      const metrics = await startProcessMetrics(config.metrics, { role: 'producer' });
      metrics.watchBacklog(backlogExporter(pipeline));
      const producer = startProducer(pipeline);
      const prometheus = await startPrometheus({
        jobs: [{ job: 'producer', targets: [`127.0.0.1:${port}`] }],
        scrapeIntervalSeconds: 1,
      });
      try {
        await submitVideo(pipeline, {
          path: generateTestVideo(path.join(dir, 'v.mp4'), { seconds: 4, width: 64, height: 48 }),
        });
        // No worker: chunks pile up to the budget, then stay.
        let waiting = -1;
        for (let waited = 0, still = 0; waited < 30_000 && still < 5; waited += 200) {
          await sleep(200);
          const jobs = await pipeline.queues.frames.getJobs(['waiting', 'prioritized', 'delayed']);
          const frames = jobs.reduce((n, j) => n + j.data.timestamps.length, 0);
          still = frames === waiting && frames > 0 ? still + 1 : 0;
          waiting = frames;
        }
        expect(waiting).toBeGreaterThan(0);
        let answer: number | undefined;
        for (let waited = 0; waited < 20_000; waited += 500) {
          const rows = await prometheus.query(query);
          answer = rows[0] ? Number(rows[0].value[1]) : undefined;
          if (answer === waiting) break;
          await sleep(500);
        }
        expect(answer).toBe(waiting);
      } finally {
        await prometheus.stop();
        await producer.close();
        await metrics.close();
        await pipeline.close();
      }
    }, 90_000);

    it("the producers' query equals the videos waiting for a producer", async () => {
      const query = byName(overlays().cpu, 'ScaledObject', 'fer-stream-producer').spec.triggers[0].metadata
        .query as string;
      const port = await freePort();
      const config = loadConfig({
        FER_METRICS_PORT: String(port),
        FER_METRICS_HOST: '127.0.0.1',
        FER_METRICS_PORT_ATTEMPTS: '1',
      });
      const pipeline = createPipeline({ redisUrl: redisUrl(), prefix: `${prefix}-videos`, config: config.pipeline });
      const metrics = await startProcessMetrics(config.metrics, { role: 'api' });
      metrics.watchQueues(Object.values(pipeline.queues));
      const prometheus = await startPrometheus({
        jobs: [{ job: 'api', targets: [`127.0.0.1:${port}`] }],
        scrapeIntervalSeconds: 1,
      });
      try {
        // No producer runs: the three videos wait.
        const video = generateTestVideo(path.join(dir, 'w.mp4'), { seconds: 1, width: 64, height: 48 });
        for (let i = 0; i < 3; i++) await submitVideo(pipeline, { path: video });
        let answer: number | undefined;
        for (let waited = 0; waited < 20_000; waited += 500) {
          const rows = await prometheus.query(query);
          answer = rows[0] ? Number(rows[0].value[1]) : undefined;
          if (answer === 3) break;
          await sleep(500);
        }
        expect(answer).toBe(3);
      } finally {
        await prometheus.stop();
        await metrics.close();
        await pipeline.close();
      }
    }, 60_000);
  });
});
