import { mkdtemp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import SwaggerParser from '@apidevtools/swagger-parser';
import { ERROR_CODES } from '../../src/api/errors.ts';
import { openApiDocument } from '../../src/api/openapi.ts';
import { buildApiServer } from '../../src/api/server.ts';
import { buildVideoResult, resmoothVideoResult } from '../../src/results/aggregate.ts';
import { toCsv } from '../../src/results/csv.ts';
import { frames, MODEL } from '../results/fixtures.ts';
import { FakeVideoService } from './fake-service.ts';

const MAX_UPLOAD = 4096;
let tmp: string;
let inputDir: string;
let uploadDir: string;
let service: FakeVideoService;
let app: FastifyInstance;
let base: string;
const routes: Array<{ method: string; url: string }> = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-api-test-'));
  inputDir = path.join(tmp, 'input');
  uploadDir = path.join(tmp, 'uploads');
  await mkdir(path.join(inputDir, 'sub'), { recursive: true });
  await writeFile(path.join(inputDir, 'sub', 'clip.mp4'), 'not really a video');
  await writeFile(path.join(tmp, 'secret.mp4'), 'outside');
  await symlink(path.join(tmp, 'secret.mp4'), path.join(inputDir, 'link.mp4'));
  service = new FakeVideoService();
  app = await buildApiServer({
    config: { uploadDir, inputDir, maxUploadBytes: MAX_UPLOAD, maxJsonBytes: 1024 },
    service,
    onRoute: (r) => routes.push(r),
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  service.isReady = true;
});

async function json(response: Response) {
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

function upload(bytes: Uint8Array | string, fields: Record<string, string> = {}, filename = 'clip.mp4') {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([bytes]), filename);
  return fetch(`${base}/v1/videos`, { method: 'POST', body: form });
}

function submitPath(body: unknown) {
  return fetch(`${base}/v1/videos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function expectError(
  result: { status: number; body: Record<string, any> },
  status: number,
  code: string,
  message?: RegExp,
) {
  expect(result.status).toBe(status);
  expect(result.body.error.code).toBe(code);
  expect(typeof result.body.error.message).toBe('string');
  if (message) expect(result.body.error.message).toMatch(message);
}

describe('health', () => {
  it('answers /healthz, and /readyz by whether the service can reach Redis', async () => {
    expect(await json(await fetch(`${base}/healthz`))).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await json(await fetch(`${base}/readyz`))).toEqual({
      status: 200,
      body: { status: 'ready', workers: 1, producers: 1, warnings: [] },
    });
    service.isReady = false;
    expectError(await json(await fetch(`${base}/readyz`)), 503, 'unavailable');
  });
});

describe('POST /v1/videos: upload', () => {
  it('streams the file into the upload directory under a name of its own and queues it with its options', async () => {
    const bytes = new Uint8Array(3000).map((_, i) => i % 251);
    const response = await upload(bytes, { fps: '5', maxFrames: '10' }, '../../evil name.MP4');
    const { status, body } = await json(response);
    expect(status).toBe(202);
    expect(body.id).toMatch(/^vid-/);
    expect(response.headers.get('location')).toBe(`/v1/videos/${body.id}`);
    const request = service.submitted.at(-1)!;
    expect(request).toMatchObject({
      uploaded: true,
      originalName: 'evil name.MP4',
      options: { fps: 5, maxFrames: 10 },
    });
    expect(path.dirname(request.path)).toBe(uploadDir);
    expect(path.basename(request.path)).toMatch(/^[0-9a-f-]{36}\.mp4$/);
    expect(new Uint8Array(await readFile(request.path))).toEqual(bytes);
  });

  it('refuses a file over the size limit with 413 and leaves no partial file behind', async () => {
    const before = await readdir(uploadDir);
    const count = service.submitted.length;
    expectError(
      await json(await upload(new Uint8Array(MAX_UPLOAD + 1))),
      413,
      'payload_too_large',
      new RegExp(`${MAX_UPLOAD} bytes`),
    );
    expect(await readdir(uploadDir)).toEqual(before);
    expect(service.submitted.length).toBe(count);
  });

  it('refuses an empty file, a form without a file, and bad options', async () => {
    const before = await readdir(uploadDir);
    expectError(await json(await upload(new Uint8Array(0))), 400, 'invalid_request', /empty \(0 bytes\)/);
    const form = new FormData();
    form.append('fps', '2');
    expectError(await json(await fetch(`${base}/v1/videos`, { method: 'POST', body: form })), 400, 'missing_file');
    expectError(await json(await upload('x', { fps: '-1' })), 400, 'invalid_request', /fps/);
    expectError(await json(await upload('x', { colour: 'blue' })), 400, 'invalid_request', /colour/);
    expectError(
      await json(await upload('x', { startSeconds: '5', endSeconds: '2' })),
      400,
      'invalid_request',
      /endSeconds must be greater/,
    );
    expect(await readdir(uploadDir)).toEqual(before);
  });

  it('refuses other content types with 415', async () => {
    const response = await fetch(`${base}/v1/videos`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expectError(await json(response), 415, 'unsupported_media_type');
  });
});

describe('POST /v1/videos: path inside the input directory', () => {
  it('queues a file inside the input directory by its real path', async () => {
    const { status } = await json(await submitPath({ path: 'sub/clip.mp4', fps: 2 }));
    expect(status).toBe(202);
    expect(service.submitted.at(-1)).toMatchObject({
      path: path.join(await import('node:fs/promises').then((f) => f.realpath(inputDir)), 'sub', 'clip.mp4'),
      uploaded: false,
      options: { fps: 2 },
    });
  });

  it('refuses paths escaping the input directory: .., absolute paths outside, symbolic links out', async () => {
    expectError(await json(await submitPath({ path: '../secret.mp4' })), 403, 'path_outside_input_dir');
    expectError(await json(await submitPath({ path: 'sub/../../secret.mp4' })), 403, 'path_outside_input_dir');
    expectError(await json(await submitPath({ path: path.join(tmp, 'secret.mp4') })), 403, 'path_outside_input_dir');
    expectError(await json(await submitPath({ path: '/etc/passwd' })), 403, 'path_outside_input_dir');
    expectError(await json(await submitPath({ path: 'link.mp4' })), 403, 'path_outside_input_dir', /leads outside/);
  });

  it('says which file is missing or not a file, and what body it expected', async () => {
    expectError(await json(await submitPath({ path: 'nope.mp4' })), 400, 'input_not_found', /nope\.mp4/);
    expectError(await json(await submitPath({ path: 'sub' })), 400, 'input_not_found', /not a regular file/);
    expectError(await json(await submitPath({ file: 'sub/clip.mp4' })), 400, 'invalid_request', /path/);
    expectError(await json(await submitPath({ path: 'sub/clip.mp4', fps: 'fast' })), 400, 'invalid_request', /fps/);
    const big = await fetch(`${base}/v1/videos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: 'x'.repeat(2000) }),
    });
    expectError(await json(big), 413, 'payload_too_large');
    const broken = await fetch(`${base}/v1/videos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"path":',
    });
    expectError(await json(broken), 400, 'invalid_request');
  });

  it('is disabled without an input directory', async () => {
    const noInput = await buildApiServer({
      config: { uploadDir, maxUploadBytes: MAX_UPLOAD, maxJsonBytes: 1024 },
      service: new FakeVideoService(),
    });
    const response = await noInput.inject({ method: 'POST', url: '/v1/videos', payload: { path: 'sub/clip.mp4' } });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('path_submission_disabled');
    await noInput.close();
  });
});

describe('GET /v1/videos/:id and /results', () => {
  const result = buildVideoResult({
    videoId: 'done-1',
    frames: frames(['happy', null, 'sad']),
    video: { durationSeconds: 1.5 },
    model: MODEL,
  });

  beforeAll(() => {
    const progress = { framesExpected: 3, framesTotal: 3, framesDone: 3, framesFailed: 0, fraction: 1 };
    service.statuses.set('done-1', { id: 'done-1', state: 'completed', progress, errors: [] });
    service.resultsById.set('done-1', result);
    service.statuses.set('busy-1', {
      id: 'busy-1',
      state: 'processing',
      progress: { ...progress, framesDone: 1, fraction: 1 / 3 },
      errors: [],
    });
    service.statuses.set('bad-1', {
      id: 'bad-1',
      state: 'failed',
      progress: { ...progress, framesExpected: null, framesTotal: null, fraction: null },
      errors: [{ code: 'not_a_video', message: 'not a video: no video stream' }],
    });
  });

  it('gives state, progress and errors; 404 for an unknown id; 400 for a malformed one', async () => {
    const { status, body } = await json(await fetch(`${base}/v1/videos/busy-1`));
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: 'busy-1', state: 'processing', progress: { framesDone: 1, framesTotal: 3 } });
    expectError(await json(await fetch(`${base}/v1/videos/unknown-id`)), 404, 'not_found', /unknown-id/);
    expectError(await json(await fetch(`${base}/v1/videos/unknown-id/results`)), 404, 'not_found');
    expectError(await json(await fetch(`${base}/v1/videos/${encodeURIComponent('bad id!')}`)), 400, 'invalid_id');
  });

  it('serves results as JSON (default), CSV, SVG and PNG', async () => {
    const asJson = await fetch(`${base}/v1/videos/done-1/results`);
    expect(asJson.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await asJson.json()).toEqual(JSON.parse(JSON.stringify(result)));
    const smoothed = (await (await fetch(`${base}/v1/videos/done-1/results?smoothing=3`)).json()) as {
      aggregation: { smoothingWindow: number };
    };
    expect(smoothed).toEqual(JSON.parse(JSON.stringify(resmoothVideoResult(result, 3))));
    expect(smoothed.aggregation.smoothingWindow).toBe(3);
    const csv = await fetch(`${base}/v1/videos/done-1/results?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="done-1.csv"');
    expect(await csv.text()).toBe(toCsv(result));
    const svg = await fetch(`${base}/v1/videos/done-1/results?format=svg`);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await svg.text()).toMatch(/^<svg /);
    const png = await fetch(`${base}/v1/videos/done-1/results?format=png`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect((await sharp(Buffer.from(await png.arrayBuffer())).metadata()).format).toBe('png');
  });

  it('says when results are not ready, when the video failed, and when the format is unknown', async () => {
    expectError(
      await json(await fetch(`${base}/v1/videos/busy-1/results`)),
      409,
      'results_not_ready',
      /processing \(1\/3 frames\)/,
    );
    expectError(await json(await fetch(`${base}/v1/videos/bad-1/results`)), 409, 'video_failed', /no video stream/);
    expectError(
      await json(await fetch(`${base}/v1/videos/done-1/results?format=xml`)),
      400,
      'invalid_format',
      /json, csv, tracks-csv, persons-csv, svg, png/,
    );
    expectError(
      await json(await fetch(`${base}/v1/videos/done-1/results?smoothing=0`)),
      400,
      'invalid_format',
      /smoothing/,
    );
    expectError(
      await json(await fetch(`${base}/v1/videos/done-1/results?colour=red`)),
      400,
      'invalid_format',
      /colour/,
    );
  });
});

describe('errors and description', () => {
  it('answers unknown routes and unexpected failures with JSON errors', async () => {
    expectError(await json(await fetch(`${base}/v2/nothing`)), 404, 'not_found');
    service.failNextSubmit = new Error('redis exploded');
    expectError(await json(await submitPath({ path: 'sub/clip.mp4' })), 500, 'internal_error');
  });

  it('documents every route in the OpenAPI description it serves, and every error code', async () => {
    const served = (await json(await fetch(`${base}/openapi.json`))).body;
    expect(served.openapi).toMatch(/^3\./);
    const documented = new Set(
      Object.entries(served.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
      ),
    );
    const registered = routes
      .filter((r) => r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(registered.length).toBeGreaterThanOrEqual(6);
    for (const route of registered) expect(documented, route).toContain(route);
    expect(documented.size).toBe(new Set(registered).size);
    expect(openApiDocument.components.schemas.Error.properties.error.properties.code.enum).toEqual(
      Object.keys(ERROR_CODES),
    );
    // A standard validator accepts it (generated clients choke on an invalid description).
    await expect(
      SwaggerParser.validate(structuredClone(served) as unknown as Parameters<typeof SwaggerParser.validate>[0]),
    ).resolves.toBeDefined();
  });

  it('lists videos newest first, filtered by state, paged; deletes one (cancelled when still open)', async () => {
    for (let i = 0; i < 3; i++) await service.submit({ path: `/v${i}.mp4`, uploaded: false, options: {} });
    const [first, , third] = [...service.statuses.keys()].slice(-3);
    service.statuses.set(third!, { ...service.statuses.get(third!)!, state: 'completed' });
    const all = (await json(await fetch(`${base}/v1/videos?limit=2`))).body;
    expect(all.videos.map((v: { id: string }) => v.id)).toEqual([third, [...service.statuses.keys()].at(-2)]);
    expect(all.next).toMatch(/^\/v1\/videos\?limit=2&cursor=/);
    const completed = (await json(await fetch(`${base}/v1/videos?state=completed`))).body;
    expect(completed.videos[0].id).toBe(third);
    expect(completed.videos.every((v: { state: string }) => v.state === 'completed')).toBe(true);
    expect((await fetch(`${base}/v1/videos?state=lost`)).status).toBe(400);
    expect((await fetch(`${base}/v1/videos?limit=0`)).status).toBe(400);
    const cancelled = await json(await fetch(`${base}/v1/videos/${first}`, { method: 'DELETE' }));
    expect(cancelled).toMatchObject({ status: 200, body: { id: first, deleted: true, cancelled: true } });
    expect((await json(await fetch(`${base}/v1/videos/${third}`, { method: 'DELETE' }))).body.cancelled).toBe(false);
    expect((await fetch(`${base}/v1/videos/${first}`)).status).toBe(404);
    expect((await fetch(`${base}/v1/videos/${first}`, { method: 'DELETE' })).status).toBe(404);
  });
});
