import { access, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipelineVideoService } from '../../src/api/pipeline-service.ts';
import { buildApiServer } from '../../src/api/server.ts';
import { sweepUploads } from '../../src/api/uploads.ts';
import { loadConfig } from '../../src/config/index.ts';
import {
  createPipeline,
  failVideo,
  storeVideoResult,
  submitVideo,
  updateVideo,
  type Pipeline,
} from '../../src/pipeline/index.ts';
import { buildVideoResult } from '../../src/results/aggregate.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { frames, MODEL } from '../results/fixtures.ts';

// The API over the real VideoService adapter and the pipeline's Redis records (no producer or
// worker: the test moves videos along with the pipeline's own functions).

const { prefix, cleanup } = testPrefix(import.meta.url);
let tmp: string;
let pipeline: Pipeline;
let app: FastifyInstance;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-api-pipeline-'));
  await writeFile(path.join(tmp, 'clip.mp4'), 'x');
  pipeline = createPipeline({
    redisUrl: redisUrl(),
    prefix,
    config: loadConfig({}, { pipeline: { maxFrames: 100 } }).pipeline,
  });
  app = await buildApiServer({
    config: { uploadDir: path.join(tmp, 'uploads'), inputDir: tmp, maxUploadBytes: 1 << 20, maxJsonBytes: 4096 },
    service: createPipelineVideoService(pipeline),
  });
});

afterAll(async () => {
  await app.close();
  await pipeline.close();
  await cleanup();
  await rm(tmp, { recursive: true, force: true });
});

const get = async (url: string) => {
  const r = await app.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() };
};

describe('API over the pipeline', () => {
  it('follows a video from submission to results, with the pipeline’s states and progress', async () => {
    const submitted = await app.inject({
      method: 'POST',
      url: '/v1/videos',
      payload: { path: 'clip.mp4', fps: 4, maxFrames: 10 },
    });
    expect(submitted.statusCode).toBe(202);
    const id = submitted.json().id as string;
    const record = await pipeline.redis.hgetall(pipeline.keys.video(id));
    expect(record.path).toBe(path.join(tmp, 'clip.mp4'));
    expect(JSON.parse(record.options!)).toMatchObject({ fps: 4, maxFrames: 10 });
    expect(await pipeline.queues.videos.getJob(id)).toBeDefined();

    expect(await get(`/v1/videos/${id}`)).toMatchObject({
      status: 200,
      body: {
        id,
        state: 'queued',
        name: 'clip.mp4',
        progress: { framesExpected: null, framesTotal: null, framesDone: 0, fraction: null },
        errors: [],
      },
    });
    await updateVideo(pipeline, id, { state: 'processing', framesExpected: 4, framesTotal: 3, framesDone: 1 });
    expect((await get(`/v1/videos/${id}`)).body.progress).toEqual({
      framesExpected: 4,
      framesTotal: 3,
      framesDone: 1,
      framesFailed: 0,
      fraction: 1 / 3,
    });
    expect(await get(`/v1/videos/${id}/results`)).toMatchObject({
      status: 409,
      body: { error: { code: 'results_not_ready' } },
    });

    const result = buildVideoResult({
      videoId: id,
      frames: frames(['happy', 'happy', 'sad'], 4),
      video: { name: 'clip.mp4' },
      model: MODEL,
    });
    await storeVideoResult(pipeline, id, result, new Date());
    const done = await get(`/v1/videos/${id}`);
    expect(done.body.state).toBe('completed');
    expect(done.body.completedAt).toMatch(/^\d{4}-/);
    expect(await get(`/v1/videos/${id}/results`)).toEqual({ status: 200, body: JSON.parse(JSON.stringify(result)) });
  });

  it('reports a failed video’s reason, and turns the pipeline’s option limits into invalid_request', async () => {
    const id = (await app.inject({ method: 'POST', url: '/v1/videos', payload: { path: 'clip.mp4' } })).json()
      .id as string;
    await failVideo(pipeline, id, { code: 'invalid_video', message: 'no video stream' });
    expect((await get(`/v1/videos/${id}`)).body).toMatchObject({
      state: 'failed',
      errors: [{ code: 'invalid_video', message: 'no video stream' }],
    });
    expect(await get(`/v1/videos/${id}/results`)).toMatchObject({
      status: 409,
      body: { error: { code: 'video_failed' } },
    });

    const tooMany = await app.inject({
      method: 'POST',
      url: '/v1/videos',
      payload: { path: 'clip.mp4', maxFrames: 1000 },
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error).toMatchObject({ code: 'invalid_request' });
    expect(tooMany.json().error.message).toMatch(/limit of 100/);
    expect((await get('/v1/videos/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });

  it('is ready while Redis answers and not ready, promptly, when it does not', async () => {
    expect((await get('/readyz')).status).toBe(200);
    const down = createPipeline({ redisUrl: 'redis://127.0.0.1:1', prefix, config: pipeline.config });
    down.redis.on('error', () => {});
    const service = createPipelineVideoService(down);
    const started = Date.now();
    expect(await service.ready()).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    down.redis.disconnect();
  });

  it("keeps an uploaded file FER_UPLOAD_KEEP_SECONDS after its video finished (the viewer plays it), then deletes it; a gone video's at once", async () => {
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const upload = async (name: string) => {
      const form = new FormData();
      form.append('file', new Blob(['video bytes']), name);
      const id = ((await (await fetch(`${base}/v1/videos`, { method: 'POST', body: form })).json()) as { id: string })
        .id;
      return { id, file: (await pipeline.redis.hget(pipeline.keys.uploads, id))! };
    };
    const kept = { keepSeconds: 3600 };
    const { id, file } = await upload('up.mp4');
    expect(path.dirname(file)).toBe(path.join(tmp, 'uploads'));
    expect(await sweepUploads(pipeline, kept)).toEqual({ uploads: [], annotated: [] });
    await access(file);
    await failVideo(pipeline, id, { code: 'invalid_video', message: 'not a video' });
    // Finished just now: kept for the hour …
    expect((await sweepUploads(pipeline, kept)).uploads).toEqual([]);
    await access(file);
    // … and deleted once it has passed.
    expect((await sweepUploads(pipeline, { ...kept, now: Date.now() + 3601_000 })).uploads).toEqual([id]);
    await expect(access(file)).rejects.toThrow(/ENOENT/);
    expect(await pipeline.redis.hget(pipeline.keys.uploads, id)).toBeNull();
    // A video deleted (or expired) takes its upload with it whatever the keep time.
    const gone = await upload('gone.mp4');
    await pipeline.redis.del(pipeline.keys.video(gone.id));
    expect((await sweepUploads(pipeline, kept)).uploads).toEqual([gone.id]);
    await expect(access(gone.file)).rejects.toThrow(/ENOENT/);
    // Videos submitted by path are never swept: their files are the user's.
    expect(await pipeline.redis.hlen(pipeline.keys.uploads)).toBe(0);
    await access(path.join(tmp, 'clip.mp4'));
  });

  it('sweeps a day of uploads a page at a time: of 1,500, exactly the expired and the gone go, over several pages', async () => {
    const dir = path.join(tmp, 'many');
    await mkdir(dir, { recursive: true });
    const now = Date.now();
    const kinds = ['open', 'recent', 'old', 'gone', 'untimed'] as const;
    const ids = Array.from({ length: 1500 }, (_, i) => ({
      id: `many-${i}`,
      kind: kinds[i % kinds.length]!,
      file: path.join(dir, `many-${i}.mp4`),
    }));
    const write = pipeline.redis.pipeline();
    for (const { id, kind, file } of ids) {
      await writeFile(file, 'v');
      write.hset(pipeline.keys.uploads, id, file);
      // The two fields of a video record the sweep reads (pipeline/videos.ts writes them so).
      if (kind === 'open') write.hset(pipeline.keys.video(id), { state: 'processing' });
      if (kind === 'recent')
        write.hset(pipeline.keys.video(id), { state: 'completed', completedAt: new Date(now - 60_000).toISOString() });
      if (kind === 'old')
        write.hset(pipeline.keys.video(id), { state: 'failed', completedAt: new Date(now - 7200_000).toISOString() });
      if (kind === 'untimed') write.hset(pipeline.keys.video(id), { state: 'completed' });
    }
    await write.exec();
    const { uploads } = await sweepUploads(pipeline, { keepSeconds: 3600, now });
    const gone = ids.filter((v) => v.kind === 'old' || v.kind === 'gone' || v.kind === 'untimed');
    expect(uploads.sort()).toEqual(gone.map((v) => v.id).sort());
    expect((await readdir(dir)).sort()).toEqual(
      ids
        .filter((v) => v.kind === 'open' || v.kind === 'recent')
        .map((v) => path.basename(v.file))
        .sort(),
    );
    expect(await pipeline.redis.hlen(pipeline.keys.uploads)).toBe(600);
    await pipeline.redis.del(pipeline.keys.uploads, ...ids.map((v) => pipeline.keys.video(v.id)));
  });

  it('deletes annotated copies of videos that no longer exist, and the partial render a crash left behind long ago', async () => {
    const dir = path.join(tmp, 'annotated');
    await mkdir(dir, { recursive: true });
    const { videoId } = await submitVideo(pipeline, { path: path.join(tmp, 'clip.mp4') });
    const files = {
      live: `${videoId}.mp4`,
      gone: 'no-such-video.mp4',
      stalePart: `${videoId}.mp4.123.part.mp4`,
      freshPart: `${videoId}.mp4.456.part.mp4`,
    };
    for (const name of Object.values(files)) await writeFile(path.join(dir, name), 'mp4');
    const old = new Date(Date.now() - 7 * 3600_000);
    await utimes(path.join(dir, files.stalePart), old, old);
    expect(await sweepUploads(pipeline, { keepSeconds: 0, annotatedDir: dir })).toEqual({
      uploads: [],
      annotated: ['no-such-video'],
    });
    expect((await readdir(dir)).sort()).toEqual([files.live, files.freshPart].sort());
    // No directory yet (nothing viewed): nothing to do.
    expect((await sweepUploads(pipeline, { keepSeconds: 0, annotatedDir: path.join(tmp, 'never') })).annotated).toEqual(
      [],
    );
  });
});
