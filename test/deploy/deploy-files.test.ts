import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dashboardPanels } from '../../src/metrics/dashboard-check.ts';
import { describeWithTools } from '../helpers/system-tools.ts';

// The shipped deployment files, checked with the real tools where they exist without a Docker
// engine: docker-compose 1.29 validates compose files offline, promtool checks and unit-tests the
// Prometheus configuration. Images cannot be built here, so the Dockerfiles get structural checks.

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

async function tool(cmd: string, args: string[], cwd = root): Promise<string> {
  try {
    const { stdout, stderr } = await run(cmd, args, {
      cwd,
      env: { ...process.env, COMPOSE_PROJECT_NAME: 'ferstream-test' },
    });
    return stdout + stderr;
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, {
      cause: error,
    });
  }
}

describeWithTools('docker-compose', ['docker-compose'], () => {
  it('docker-compose config -q accepts the stack, alone and with the GPU override', async () => {
    await tool('docker-compose', ['config', '-q']);
    await tool('docker-compose', ['-f', 'docker-compose.yml', '-f', 'docker-compose.gpu.yml', 'config', '-q']);
  });

  it('workers scale (no container_name, no host ports), Redis never evicts, everything is provisioned', async () => {
    // The resolved configuration as docker-compose prints it, read with PyYAML (docker-compose's own dependency).
    const json = await tool('/bin/sh', [
      '-c',
      `docker-compose config | /usr/bin/python3 -c 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'`,
    ]);
    type Service = {
      container_name?: string;
      ports?: unknown[];
      command?: string[];
      environment?: Record<string, string>;
      volumes?: Array<{ source?: string; target: string; read_only?: boolean } | string>;
    };
    const services = (JSON.parse(json) as { services: Record<string, Service> }).services;
    expect(Object.keys(services).sort()).toEqual([
      'alertmanager',
      'api',
      'grafana',
      'producer',
      'prometheus',
      'redis',
      'worker',
    ]);
    expect(JSON.stringify(services.alertmanager!.ports)).toContain('127.0.0.1');
    for (const name of ['worker', 'producer']) {
      expect(services[name]!.container_name, name).toBeUndefined();
      expect(services[name]!.ports, name).toBeUndefined();
      expect(services[name]!.environment?.FER_METRICS_PORT, name).toBe('9464');
    }
    const volumeTargets = (s: Service) =>
      (s.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1] : v.target));
    expect(volumeTargets(services.worker!)).toContain('/models');
    expect(services.worker!.environment?.FER_MODELS_DIR).toBe('/models');
    const redisCommand = services.redis!.command!.join(' ');
    expect(redisCommand).toContain('--maxmemory-policy noeviction');
    expect(redisCommand).toContain('--appendonly yes');
    expect(volumeTargets(services.redis!)).toContain('/data');
    expect(services.grafana!.environment?.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    expect(volumeTargets(services.grafana!)).toEqual(
      expect.arrayContaining(['/etc/grafana/provisioning', '/etc/grafana/dashboards']),
    );
    expect(volumeTargets(services.prometheus!)).toContain('/etc/prometheus');
    // Nobody gets in: the API needs tokens unless opened on purpose; unauthenticated ports stay off the host network.
    expect(services.api!.environment?.FER_API_AUTH).toBe('token');
    expect(Object.keys(services.api!.environment ?? {})).toContain('FER_API_TOKENS');
    const published = (s: Service) => JSON.stringify(s.ports ?? []);
    // Only the API (tokens) is published beyond the host's loopback by default: Prometheus and Alertmanager
    // have no authentication, Grafana lets anonymous viewers query Prometheus.
    for (const [name, s] of Object.entries(services)) {
      for (const port of s.ports ?? [])
        if (name !== 'api') expect(JSON.stringify(port), name).toMatch(/^"?127\.0\.0\.1:|"host_ip":"127\.0\.0\.1"/);
    }
    for (const s of Object.values(services)) expect(published(s)).not.toContain('9464');
  });
});

describeWithTools('prometheus', ['prometheus'], () => {
  const dir = path.join(root, 'deploy', 'prometheus');

  it('promtool check config accepts prometheus.yml (with its rule file)', async () => {
    const out = await tool('promtool', ['check', 'config', 'prometheus.yml'], dir);
    expect(out).toMatch(/SUCCESS: prometheus.yml is valid/);
  });

  it('promtool check rules accepts rules.yml, and its unit tests pass', async () => {
    expect(await tool('promtool', ['check', 'rules', 'rules.yml'], dir)).toMatch(/SUCCESS: \d+ rules found/);
    expect(await tool('promtool', ['test', 'rules', 'rules.test.yml'], dir)).toMatch(/SUCCESS/);
  });

  it('sends alerts to Alertmanager (its configuration is checked by test/deploy/alerts-e2e.test.ts)', () => {
    expect(read('deploy/prometheus/prometheus.yml')).toMatch(
      /alerting:\n\s+alertmanagers:\n\s+- static_configs:\n\s+- targets: \['alertmanager:9093'\]/,
    );
  });

  it('discovers scaled workers by DNS on the compose service name', () => {
    const config = read('deploy/prometheus/prometheus.yml');
    expect(config).toMatch(/job_name: worker\n\s+dns_sd_configs:\n\s+- names: \['worker'\]\n\s+type: A\n\s+port: 9464/);
  });
});

describe('grafana', () => {
  const datasource = read('deploy/grafana/provisioning/datasources/prometheus.yml');
  const uid = /uid: (\S+)/.exec(datasource)![1]!;
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/fer-stream.json')) as {
    uid: string;
    panels: unknown[];
    templating: { list: Array<{ datasource?: { uid: string } }> };
  };

  it('every panel and target uses the provisioned datasource by uid', () => {
    expect(datasource).toMatch(/type: prometheus/);
    expect(datasource).toMatch(/url: http:\/\/prometheus:9090/);
    const panels = dashboardPanels(dashboard).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(20);
    for (const panel of panels) {
      expect(panel.datasource, String(panel.title)).toEqual({ type: 'prometheus', uid });
      expect(panel.targets?.length, String(panel.title)).toBeGreaterThan(0);
      for (const target of panel.targets ?? [])
        expect(target.datasource, String(panel.title)).toEqual({ type: 'prometheus', uid });
    }
    for (const variable of dashboard.templating.list) expect(variable.datasource?.uid).toBe(uid);
  });

  it('the dashboard provider loads the directory compose mounts the dashboards into', () => {
    const provider = read('deploy/grafana/provisioning/dashboards/fer-stream.yml');
    const providerPath = /path: (\S+)/.exec(provider)![1]!;
    expect(read('docker-compose.yml')).toContain(`./deploy/grafana/dashboards:${providerPath}:ro`);
    expect(provider).toMatch(/type: file/);
  });

  it('covers what operators need: throughput, latency per stage, batching, queues, workers, errors, Redis memory, event loop', () => {
    const exprs = dashboardPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => String(t.expr)));
    const all = exprs.join('\n');
    for (const needle of [
      'ferstream_frames_processed_total',
      'ferstream_videos_completed_total',
      'ferstream_inference_duration_seconds_bucket',
      'ferstream_inference_batch_size_bucket',
      'ferstream_inference_batch_fill_ratio',
      'ferstream_queue_jobs',
      'ferstream_queue_oldest_waiting_age_seconds',
      'ferstream_frame_queue_wait_seconds_bucket',
      'ferstream_frame_latency_seconds_bucket',
      'ferstream_video_latency_seconds_bucket',
      'up{job="worker"}',
      'ferstream_frames_failed_total',
      'ferstream_videos_failed_total',
      'ferstream_redis_held_frame_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'ferstream_inference_busy_ratio',
      'ferstream_build_info',
    ]) {
      expect(all, needle).toContain(needle);
    }
    expect(all).toMatch(/by \(le, stage\)/);
    expect(all).toMatch(/sum by \(instance\) \(rate\(ferstream_frames_processed_total\{job="worker"/);
  });
});

describe('Dockerfiles', () => {
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  for (const file of ['Dockerfile', 'Dockerfile.gpu']) {
    it(`${file}: multi-stage on Node LTS, non-root, copies only files that exist and are not ignored`, () => {
      const text = read(file);
      const froms = [...text.matchAll(/^FROM (\S+)(?: AS (\S+))?/gm)];
      expect(froms.length).toBeGreaterThanOrEqual(3);
      expect(text).toMatch(/^ARG NODE_VERSION=(22|24)$/m);
      const lastStage = text.slice(froms.at(-1)!.index);
      expect(lastStage).toMatch(/^USER node$/m);
      expect(lastStage).toMatch(/^ENTRYPOINT \[.*"bin\/fer-stream.js"\]$/m);
      for (const [, args] of text.matchAll(/^COPY (?!--from)(.+)$/gm)) {
        const sources = args!
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1);
        for (const source of sources) {
          expect(existsSync(path.join(root, source)), `${file}: COPY ${source}`).toBe(true);
          expect(ignored, `${file}: COPY ${source} is excluded by .dockerignore`).not.toContain(source);
        }
      }
      for (const [, stage] of text.matchAll(/^COPY --from=(\S+)/gm)) {
        expect(
          froms.some((f) => f[2] === stage),
          `${file}: COPY --from=${stage}`,
        ).toBe(true);
      }
      // The CLI starts from the compiled JavaScript: compiled in the check stage, shipped with
      // what bin/compile.js hashes to find it (sources and both tsconfig files).
      expect(text).toMatch(/^RUN .*node bin\/compile\.js/m);
      expect(lastStage).toMatch(/^COPY --from=check \/app\/dist \.\/dist$/m);
      expect(lastStage).toMatch(/^COPY .*tsconfig\.json tsconfig\.build\.json/m);
      expect(lastStage).toMatch(/^COPY src \.\/src$/m);
    });
  }

  it('the GPU image is CUDA 12 + cuDNN 9 runtime with onnxruntime-node CUDA provider installed', () => {
    const text = read('Dockerfile.gpu');
    expect(text).toMatch(/^ARG CUDA_IMAGE=nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu22\.04$/m);
    expect(text).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 node script\/install\.js/);
    expect(text).toMatch(
      /test -f node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/libonnxruntime_providers_cuda\.so/,
    );
    // CPU installs skip dependency install scripts (onnxruntime-node's NuGet download) with a setting npm knows.
    expect(read('.npmrc')).toMatch(/^ignore-scripts=true$/m);
  });
});
