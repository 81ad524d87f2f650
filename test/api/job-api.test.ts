import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipelineVideoService } from '../../src/api/pipeline-service.ts';
import { buildApiServer } from '../../src/api/server.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, heldFrames, reserveChunk, writeChunk, type Pipeline } from '../../src/pipeline/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';

// The job API as queue APIs have it, over the real pipeline service and Redis: an Idempotency-Key
// makes a retried submission answer the first one's video, and a cancelled video keeps its record
// in an explicit `cancelled` state.

const { prefix, cleanup } = testPrefix(import.meta.url);
let tmp: string;
let pipeline: Pipeline;
let app: FastifyInstance;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-job-api-'));
  await writeFile(path.join(tmp, 'clip.mp4'), 'x');
  await writeFile(path.join(tmp, 'other.mp4'), 'y');
  pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: loadConfig({}).pipeline });
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

function upload(bytes: string, key: string) {
  const boundary = '----fer-boundary';
  const payload = `--${boundary}\r\nContent-Disposition: form-data; name="fps"\r\n\r\n2\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="talk.mp4"\r\nContent-Type: video/mp4\r\n\r\n${bytes}\r\n--${boundary}--\r\n`;
  return app.inject({
    method: 'POST',
    url: '/v1/videos',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'idempotency-key': key },
    payload,
  });
}

describe('Idempotency-Key on POST /v1/videos', () => {
  it('the same key and request answer the first video, once queued; a different request with it is a 409', async () => {
    const post = (body: object, key: string) =>
      app.inject({ method: 'POST', url: '/v1/videos', payload: body, headers: { 'idempotency-key': key } });
    const first = await post({ path: 'clip.mp4', fps: 4 }, 'key-1');
    expect(first.statusCode).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await post({ fps: 4, path: 'clip.mp4' }, 'key-1');
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.json().id);
    expect(again.headers.location).toBe(`/v1/videos/${first.json().id}`);
    expect(await pipeline.queues.videos.getJobCounts('waiting', 'prioritized')).toMatchObject({ waiting: 1 });

    for (const body of [
      { path: 'clip.mp4', fps: 5 },
      { path: 'other.mp4', fps: 4 },
    ]) {
      const conflict = await post(body, 'key-1');
      expect(conflict.statusCode).toBe(409);
      expect(conflict.json().error.code).toBe('idempotency_conflict');
    }
    // Another key is another submission.
    expect((await post({ path: 'clip.mp4', fps: 4 }, 'key-2')).json().id).not.toBe(first.json().id);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/v1/videos',
          payload: { path: 'clip.mp4' },
          headers: { 'idempotency-key': 'has space' },
        })
      ).json().error.code,
    ).toBe('invalid_request');
  });

  it('an upload retried with its key makes one video and keeps one file; other bytes under the key are a 409, their file dropped', async () => {
    const first = await upload('video bytes', 'upload-key');
    expect(first.statusCode).toBe(202);
    const again = await upload('video bytes', 'upload-key');
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.json().id);
    expect((await upload('other bytes', 'upload-key')).json().error.code).toBe('idempotency_conflict');
    expect((await readdir(path.join(tmp, 'uploads'))).filter((f) => !f.startsWith('.'))).toHaveLength(1);
  });
});

describe('POST /v1/videos/{id}/cancel', () => {
  it('cancels an open video: state cancelled, kept and listed, its budget given back; results and a second cancel are 409s', async () => {
    const { id } = (await app.inject({ method: 'POST', url: '/v1/videos', payload: { path: 'clip.mp4' } })).json() as {
      id: string;
    };
    // As if a producer had written a chunk of it.
    const chunk = pipeline.keys.chunk(id, 0);
    await reserveChunk(pipeline, chunk, 300, 1);
    await writeChunk(pipeline, chunk, Buffer.alloc(300));
    const cancelled = await app.inject({ method: 'POST', url: `/v1/videos/${id}/cancel` });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({
      id,
      state: 'cancelled',
      errors: [{ code: 'cancelled', message: 'cancelled by request' }],
    });
    expect(await heldFrames(pipeline)).toEqual({ bytes: 0, frames: 0 });
    expect(await pipeline.queues.videos.getJob(id)).toBeUndefined();

    expect((await app.inject({ method: 'GET', url: `/v1/videos/${id}` })).json().state).toBe('cancelled');
    const listed = (await app.inject({ method: 'GET', url: '/v1/videos?state=cancelled' })).json() as {
      videos: Array<{ id: string }>;
    };
    expect(listed.videos.map((v) => v.id)).toEqual([id]);
    expect(
      ((await app.inject({ method: 'GET', url: '/v1/videos?state=failed' })).json() as { videos: unknown[] }).videos,
    ).toEqual([]);
    expect((await app.inject({ method: 'GET', url: `/v1/videos/${id}/results` })).json().error.code).toBe(
      'video_cancelled',
    );
    const twice = await app.inject({ method: 'POST', url: `/v1/videos/${id}/cancel` });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('video_finished');
    expect((await app.inject({ method: 'POST', url: '/v1/videos/no-such-video/cancel' })).statusCode).toBe(404);
    // Kept for the results' retention, like a failed video.
    expect(await pipeline.redis.ttl(pipeline.keys.video(id))).toBeGreaterThan(0);
  });
});
