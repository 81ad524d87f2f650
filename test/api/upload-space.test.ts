import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApiServer } from '../../src/api/server.ts';
import { CHECK_EVERY_BYTES, volumeFreeBytes } from '../../src/api/upload-space.ts';
import { buildVideoResult } from '../../src/results/aggregate.ts';
import { frames, MODEL } from '../results/fixtures.ts';
import { describeRequiring } from '../helpers/shared.ts';
import { FakeVideoService } from './fake-service.ts';

// The upload volume's floor of free space (FER_UPLOAD_MIN_FREE_BYTES) and a volume that fills up,
// on a real small volume: a 24 MiB tmpfs mounted for the test (root only; CI runs as root).

const MiB = 1024 ** 2;
const VOLUME = 24 * MiB;

function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(path.join(os.tmpdir(), 'fer-mount-probe-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]).status === 0;
  if (mounted) spawnSync('umount', [probe]);
  rmdirSync(probe);
  return mounted;
}

/** POSTs a multipart upload of `size` bytes, sent in pieces; `declared`: with a Content-Length, else chunked. */
function upload(base: string, size: number, declared: boolean): Promise<{ status: number; body: any }> {
  const boundary = 'fer-test-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const piece = Buffer.alloc(256 * 1024, 7);
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}/v1/videos`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        ...(declared ? { 'content-length': head.length + size + tail.length } : {}),
      },
    });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
    });
    // The server may answer and close while we still send: the answer is what counts.
    request.on('error', (error) => (answered ? undefined : reject(error)));
    let sent = 0;
    const sendMore = () => {
      while (!answered && sent < size) {
        const n = Math.min(piece.length, size - sent);
        sent += n;
        if (!request.write(piece.subarray(0, n))) return void request.once('drain', sendMore);
      }
      if (!answered) request.end(tail);
    };
    request.write(head);
    sendMore();
  });
}

describeRequiring(
  'the upload volume: a floor of free space, and a full volume',
  () => {
    let volume: string;
    const servers: FastifyInstance[] = [];
    const service = new FakeVideoService();

    beforeAll(() => {
      volume = mkdtempSync(path.join(os.tmpdir(), 'fer-upload-volume-'));
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${VOLUME}`, 'tmpfs', volume]).status).toBe(0);
    });
    afterAll(async () => {
      for (const app of servers) await app.close();
      spawnSync('umount', [volume]);
      rmdirSync(volume);
    });

    async function serve(minFreeBytes: number): Promise<string> {
      const app = await buildApiServer({
        config: { uploadDir: volume, maxUploadBytes: 64 * MiB, maxJsonBytes: 1024, uploadMinFreeBytes: minFreeBytes },
        service,
      });
      servers.push(app);
      return app.listen({ host: '127.0.0.1', port: 0 });
    }

    it('refuses an upload whose declared length would take the volume under the floor, before reading it', async () => {
      const base = await serve(8 * MiB);
      const before = await volumeFreeBytes(volume);
      const submitted = service.submitted.length;
      const answer = await upload(base, 20 * MiB, true);
      expect(answer.status).toBe(507);
      expect(answer.body.error.code).toBe('insufficient_storage');
      expect(answer.body.error.message).toMatch(
        /an upload of 20\.0 MB does not fit: the upload volume has 2[34]\.\d MB free, and 8\.0 MB are kept free \(FER_UPLOAD_MIN_FREE_BYTES\)/,
      );
      expect(answer.body.error.message).not.toContain(volume);
      expect(await readdir(volume)).toEqual([]);
      expect(await volumeFreeBytes(volume)).toBe(before);
      expect(service.submitted.length).toBe(submitted);
    });

    it('refuses an upload of undeclared length once the volume goes under the floor, and keeps nothing of it', async () => {
      const base = await serve(8 * MiB);
      const before = await volumeFreeBytes(volume);
      const submitted = service.submitted.length;
      const answer = await upload(base, 20 * MiB, false);
      expect(answer.status).toBe(507);
      expect(answer.body.error.code).toBe('insufficient_storage');
      expect(answer.body.error.message).toMatch(
        /ran down to \d+\.\d MB free while this upload arrived, and 8\.0 MB are kept free/,
      );
      // It stopped within one check of the floor: the volume never went below floor − CHECK_EVERY_BYTES.
      const low = Number(/ran down to (\d+\.\d) MB/.exec(answer.body.error.message)![1]) * MiB;
      expect(low).toBeGreaterThanOrEqual(8 * MiB - CHECK_EVERY_BYTES);
      expect(low).toBeLessThan(8 * MiB);
      expect(await readdir(volume)).toEqual([]);
      expect(await volumeFreeBytes(volume)).toBe(before);
      expect(service.submitted.length).toBe(submitted);
    });

    it('answers a volume that fills up (no floor) with 507, not a 500, and then takes what fits', async () => {
      const base = await serve(0);
      const submitted = service.submitted.length;
      const full = await upload(base, 30 * MiB, false);
      expect(full.status).toBe(507);
      expect(full.body.error).toEqual({
        code: 'insufficient_storage',
        message: 'the upload volume is full: nothing was kept, try again later',
      });
      expect(await readdir(volume)).toEqual([]);
      expect(service.submitted.length).toBe(submitted);

      const fits = await upload(base, 6 * MiB, false);
      expect(fits.status).toBe(202);
      expect(service.submitted.length).toBe(submitted + 1);
      expect(await readdir(volume)).toHaveLength(1);
    });

    it('does not render an annotated copy that would take the volume under the floor', async () => {
      const base = await serve(8 * MiB);
      // A completed video whose source (outside the volume) is 20 MiB: its copy would not fit above the floor.
      const source = path.join(os.tmpdir(), `fer-upload-space-source-${process.pid}.mp4`);
      await writeFile(source, Buffer.alloc(20 * MiB));
      try {
        const progress = { framesExpected: 3, framesTotal: 3, framesDone: 3, framesFailed: 0, fraction: 1 };
        service.statuses.set('done-big', { id: 'done-big', state: 'completed', progress, errors: [] });
        service.resultsById.set(
          'done-big',
          buildVideoResult({
            videoId: 'done-big',
            frames: frames(['happy', null, 'sad']),
            video: { durationSeconds: 1.5 },
            model: MODEL,
          }),
        );
        service.sources.set('done-big', source);
        const response = await fetch(`${base}/v1/videos/done-big/video`);
        expect(response.status).toBe(507);
        expect(((await response.json()) as any).error.message).toMatch(
          /^the annotated copy \(about its source's size\) of 20\.0 MB does not fit: the upload volume has 1[78]\.\d MB free, and 8\.0 MB are kept free/,
        );
        expect(await readdir(path.join(volume, 'annotated'))).toEqual([]);
      } finally {
        await rm(source, { force: true });
      }
    });

    it('two uploads arriving together cannot take the same room: the second is refused while the first is still promised', async () => {
      const base = await serve(8 * MiB);
      const free = await volumeFreeBytes(volume);
      // Each fits alone (free − 6 MiB ≥ the floor), both together do not.
      const size = Math.floor((free - 8 * MiB) / 2 + MiB);
      expect(free - size).toBeGreaterThanOrEqual(8 * MiB);
      const entries = (await readdir(volume)).length;
      const boundary = 'fer-held';
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="first.mp4"\r\n\r\n`,
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      const first = http.request(`${base}/v1/videos`, {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + size + tail.length,
        },
      });
      const firstAnswer = new Promise<number>((resolve) =>
        first.on('response', (r) => (r.resume(), resolve(r.statusCode!))),
      );
      first.write(head);
      first.write(Buffer.alloc(MiB, 1));
      // The first upload is on the volume, arriving …
      for (let i = 0; i < 100 && (await readdir(volume)).length === entries; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await upload(base, size, true);
      expect(second.status).toBe(507);
      expect(second.body.error.message).toMatch(
        /does not fit: the upload volume has \d+\.\d MB free \(\d+\.\d MB of it promised to uploads still arriving\), and 8\.0 MB are kept free/,
      );
      // … and completes: what it was promised was there.
      first.end(Buffer.concat([Buffer.alloc(size - MiB, 1), tail]));
      expect(await firstAnswer).toBe(202);
    });
  },
  {
    available: canMountTmpfs(),
    failWhenMissing: process.env.CI === 'true',
    missing: 'CI=true but a tmpfs cannot be mounted here (the test needs root: mount -t tmpfs)',
    skip: 'needs root, to mount a small tmpfs as the upload volume (mount -t tmpfs)',
  },
);
