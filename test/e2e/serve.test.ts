import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcesses, logLines, type CliChild } from '../helpers/cli-processes.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// The README's first API example: `fer-stream serve` alone takes an upload to completion. And
// the signal that was missing: with only `fer-stream api` running, a video's status, /readyz and
// ferstream_services_seen say that no producer or worker is there, until one starts.

const { prefix, cleanup } = testPrefix(import.meta.url);
let tmp: string;
let video: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-serve-'));
  video = generateTestVideo(path.join(tmp, 'clip.mp4'), { seconds: 3, width: 160, height: 120 });
});
afterAll(async () => {
  await cleanup();
  await rm(tmp, { recursive: true, force: true });
});

function env(name: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    REDIS_URL: redisUrl(),
    FER_REDIS_PREFIX: `${prefix}-${name}`,
    FER_UPLOAD_DIR: path.join(tmp, `uploads-${name}`),
    FER_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    FER_LOG_FORMAT: 'json',
    FER_SERVICE_SEEN_SECONDS: '6',
  };
}

async function listening(processes: CliProcesses, child: CliChild): Promise<string> {
  return processes.until(
    'the API to listen',
    async () => logLines(child).find((l) => l.msg === 'API listening')?.url as string | undefined,
    60_000,
  );
}

async function upload(api: string): Promise<string> {
  const form = new FormData();
  form.set('file', new Blob([readFileSync(video)]), 'clip.mp4');
  const response = await fetch(`${api}/v1/videos`, { method: 'POST', body: form });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

async function completed(processes: CliProcesses, api: string, id: string): Promise<Record<string, unknown>> {
  return processes.until(
    'the video to complete',
    async () => {
      const status = (await (await fetch(`${api}/v1/videos/${id}`)).json()) as Record<string, unknown>;
      return status.state === 'completed' ? status : undefined;
    },
    60_000,
  );
}

describe('fer-stream serve', () => {
  it('alone takes an upload to completion, says producers and workers run, and stops on SIGTERM', async () => {
    const processes = new CliProcesses(100);
    try {
      const child = processes.start('serve', ['serve', '--port', '0', '--analyzer', 'cost-free'], env('serve'));
      const api = await listening(processes, child);
      expect(api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const status = await completed(processes, api, await upload(api));
      expect(status).toMatchObject({ progress: { framesTotal: 6, framesDone: 6, framesFailed: 0 } });
      expect(status.warnings).toBeUndefined();
      expect(await (await fetch(`${api}/readyz`)).json()).toEqual({
        status: 'ready',
        workers: 1,
        producers: 1,
        warnings: [],
      });
      expect(await processes.kill(child, 'SIGTERM')).toBe(0);
    } finally {
      await processes.stopAll();
    }
  });

  it('the API alone: the video, /readyz and the metric say no producer or worker runs; a worker with --producer completes it', async () => {
    const processes = new CliProcesses(100);
    try {
      const apiChild = processes.start('api', ['api', '--port', '0', '--host', '127.0.0.1'], env('api-alone'));
      const api = await listening(processes, apiChild);
      const id = await upload(api);
      const waiting = (await (await fetch(`${api}/v1/videos/${id}`)).json()) as { state: string; warnings: string[] };
      expect(waiting.state).toBe('queued');
      expect(waiting.warnings).toEqual([
        'no producer has been seen for 6 s: nothing will split videos into frames until one runs (fer-stream producer, or fer-stream worker --producer (or fer-stream serve))',
        'no worker has been seen for 6 s: nothing will analyse the frames until one runs (fer-stream worker (or fer-stream serve))',
      ]);
      expect(await (await fetch(`${api}/readyz`)).json()).toMatchObject({ status: 'ready', workers: 0, producers: 0 });
      const metricsUrl = String(logLines(apiChild).find((l) => /^metrics on /.test(l.msg ?? ''))!.msg).replace(
        /^metrics on /,
        '',
      );
      const metrics = await (await fetch(metricsUrl)).text();
      expect(metrics).toMatch(/^ferstream_services_seen\{role="worker"\} 0$/m);
      expect(metrics).toMatch(/^ferstream_services_seen\{role="producer"\} 0$/m);

      processes.start('worker', ['worker', '--producer', '--analyzer', 'cost-free'], env('api-alone'));
      const done = await completed(processes, api, id);
      expect(done.warnings).toBeUndefined();
      expect(await (await fetch(metricsUrl)).text()).toMatch(/^ferstream_services_seen\{role="worker"\} 1$/m);
    } finally {
      await processes.stopAll();
    }
  });
});
