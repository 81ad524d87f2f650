// The viewer page in a real headless Chromium (Debian's chromium, driven by playwright-core): a
// real talking-face video analysed by the pipeline (compact profile), served by the API with
// tokens on. The page loads without a token of its own, fetches the result and the annotated
// video with the token from its #fragment, draws one row for the video and one per person, plays
// the video, and a click on a row seeks the video there with the cursor following. Opened without
// a token it says how to give one; a video without a face says so, with a "no face" swatch. A screenshot
// is written to the temp directory (path printed).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTokens } from '../../src/api/auth.ts';
import { createPipelineVideoService } from '../../src/api/pipeline-service.ts';
import { buildApiServer } from '../../src/api/server.ts';
import { trackingFor } from '../../src/app/tracking.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createProfileAnalyzer } from '../../src/inference/profiles.ts';
import { createPipeline, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import type { VideoResult } from '../../src/results/index.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';
import { describeWithTools } from '../helpers/system-tools.ts';
import { ensureFaceApiModels } from '../../src/models/faceapi/convert.ts';

const TOKEN = 'viewer-test-token-0123456789';
const streaming = {
  throttle: false,
  bytesSent: 0,
  responses: [] as Array<{ status: number; range: string | undefined }>,
};
const { prefix, cleanup } = testPrefix(import.meta.url);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-view-'));

describeWithTools('the /view page in Chromium', ['chromium', 'ffmpeg'], () => {
  describeWithShared('a real video, analysed and watched', () => {
    let pipeline: Pipeline;
    let producer: ProducerHandle;
    let worker: WorkerHandle;
    let app: FastifyInstance;
    let browser: Browser;
    let base: string;
    let videoId: string;
    let result: VideoResult;

    beforeAll(async () => {
      const config = loadConfig(
        { FER_MODELS_DIR: path.join(dir, 'models'), FER_EXECUTION_PROVIDERS: 'cpu' },
        { pipeline: { fps: 5 } },
      );
      pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
      const analyzer = await createProfileAnalyzer(config, 'compact', { prepareFaceApi: ensureFaceApiModels });
      producer = startProducer(pipeline);
      worker = startWorker(pipeline, { analyzer, finalizeOptions: trackingFor(analyzer, config) });
      ({ videoId } = await submitVideo(pipeline, {
        path: sharedPath('fixtures', 'video', 'grid_bbaf2n.mp4'),
        owner: 'viewer',
      }));
      await waitForVideos(pipeline, [videoId], { timeoutMs: 90_000, pollMs: 100 });
      app = await buildApiServer({
        config: { uploadDir: path.join(dir, 'uploads'), maxUploadBytes: 1 << 20, maxJsonBytes: 4096 },
        service: createPipelineVideoService(pipeline),
        tokens: parseTokens([`viewer:${TOKEN}`]),
      });
      // For the streaming test: the <video> element's responses (signed links) slowed to 8 KB per
      // 150 ms, bytes counted.
      app.addHook('onSend', async (request, reply, payload) => {
        if (!streaming.throttle || !/\/video\?.*access=/.test(request.url) || !(payload instanceof Readable))
          return payload;
        streaming.responses.push({ status: reply.statusCode, range: request.headers.range });
        const slow = new PassThrough();
        void (async () => {
          for await (const chunk of payload as AsyncIterable<Buffer>) {
            for (let at = 0; at < chunk.length; at += 8192) {
              const piece = chunk.subarray(at, at + 8192);
              if (!slow.write(piece)) await new Promise((resolve) => slow.once('drain', resolve));
              streaming.bytesSent += piece.length;
              await new Promise((resolve) => setTimeout(resolve, 150));
              if (slow.destroyed) return;
            }
          }
          slow.end();
        })().catch(() => slow.destroy());
        return slow;
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      result = (await (
        await fetch(`${base}/v1/videos/${videoId}/results`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as VideoResult;
      browser = await chromium.launch({
        executablePath: execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim(),
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await producer?.close();
      await worker?.close();
      await pipeline?.close();
      await cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('loads, draws the chart and a row per person, plays the annotated video, and a click seeks it', async () => {
      // Data stays behind the token: the page is open, its video is not.
      expect((await fetch(`${base}/v1/videos/${videoId}/video`)).status).toBe(401);
      expect((await fetch(`${base}/v1/videos/${videoId}/view`)).status).toBe(200);

      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${base}/v1/videos/${videoId}/view#token=${TOKEN}`);
      await page.waitForSelector('body[data-ready="video"]', { timeout: 60_000 });
      expect(errors).toEqual([]);

      const meta = await page.$eval('#meta', (m) => m.textContent);
      expect(meta).toContain(
        `${result.counts.sampled} frames, ${result.counts.tracks} track(s), ${result.counts.persons} person(s)`,
      );
      expect(result.counts.persons).toBeGreaterThan(0);
      if (result.counts.reusedFaces > 0)
        expect(meta).toContain(`${result.counts.reusedFaces} of ${result.counts.faces} faces reused`);
      else expect(meta).not.toContain('reused');

      const rows = await page.$$eval('#chart .row .name', (names) => names.map((n) => n.textContent));
      expect(rows).toEqual([
        'whole video',
        ...result.persons.map(
          (p) =>
            `person ${p.personId}${p.dominant ? ` ${p.dominant.label}` : ''} · ${p.screenTimeSeconds.toFixed(1)} s`,
        ),
      ]);
      expect(await page.$$eval('#chart .row', (r) => r[0]!.querySelectorAll('.segment').length)).toBe(
        result.segments.length,
      );
      const duration = await page.$eval('#video', (v) => (v as unknown as { duration: number }).duration);
      expect(duration).toBeCloseTo(3, 0);

      // Click at 70 % of the person's row: the video seeks to 70 % of its duration and the cursor follows.
      const lane = (await page.$$('#chart .row .lane'))[1]!; // the person's row
      const box = (await lane.boundingBox())!;
      await page.mouse.click(box.x + box.width * 0.7, box.y + box.height / 2);
      await page.waitForFunction('Math.abs(document.getElementById("video").currentTime - 2.1) < 0.15');
      const cursor = await page.$eval('#cursor', (c) => ({
        left: c.getBoundingClientRect().left,
        time: Number((c as unknown as { dataset: Record<string, string> }).dataset.time),
      }));
      expect(cursor.time).toBeCloseTo(2.1, 0);
      expect(cursor.left).toBeGreaterThan(box.x + box.width * 0.65);
      expect(cursor.left).toBeLessThan(box.x + box.width * 0.75);

      // The legend has a swatch for every expression and for "no face"; a video with faces says nothing in #msg.
      expect(await page.$$eval('#legend span', (spans) => spans.map((sp) => sp.textContent))).toEqual([
        ...result.labels,
        'no face',
      ]);
      expect(await page.$eval('#msg', (m) => m.textContent)).toBe('');

      const screenshot = path.join(os.tmpdir(), 'fer-stream-view.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`[view] screenshot: ${screenshot}`);
    }, 120_000);

    it('streams the video: the first frame shows before the whole file has been sent, through Range requests answered 206', async () => {
      // The annotated copy exists now (the first test rendered it).
      const size = statSync(path.join(dir, 'uploads', 'annotated', `${videoId}.mp4`)).size;
      streaming.throttle = true;
      const page = await browser.newPage();
      try {
        await page.goto(`${base}/v1/videos/${videoId}/view#token=${TOKEN}`);
        await page.waitForSelector('body[data-first-frame="shown"]', { timeout: 60_000 });
        const atFirstFrame = streaming.bytesSent;
        console.log(
          `[view] first frame shown after ${atFirstFrame} of ${size} bytes; responses ${JSON.stringify(streaming.responses)}`,
        );
        expect(atFirstFrame).toBeLessThan(size);
        expect(streaming.responses.length).toBeGreaterThan(0);
        expect(streaming.responses.every((r) => r.status === 206 && /^bytes=\d+-\d*$/.test(r.range ?? ''))).toBe(true);
      } finally {
        streaming.throttle = false;
        await page.close();
      }
      // The link is the token's: without it (or with it altered) the video is refused.
      const link = (await (
        await fetch(`${base}/v1/videos/${videoId}/video-link`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as { url: string };
      expect((await fetch(`${base}${link.url}`, { headers: { range: 'bytes=0-9' } })).status).toBe(206);
      expect((await fetch(`${base}${link.url.replace(/access=\d+/, 'access=1')}`)).status).toBe(401);
      expect((await fetch(`${base}${link.url}`, { headers: { range: `bytes=${size}-` } })).status).toBe(416);
    }, 120_000);

    it('opened without a token, the page says how to give one', async () => {
      const page = await browser.newPage();
      await page.goto(`${base}/v1/videos/${videoId}/view`);
      await page.waitForSelector('body[data-ready="error"]', { timeout: 30_000 });
      expect(await page.$eval('#msg', (m) => m.textContent)).toMatch(
        new RegExp(`open this page as /v1/videos/${videoId}/view#token=YOUR_API_TOKEN`),
      );
      await page.close();
    }, 60_000);

    it('a video without a face says so, with the "no face" swatch in the legend', async () => {
      const blank = path.join(dir, 'no-face.mp4');
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x240:rate=25:duration=2',
        '-c:v',
        'libx264',
        '-pix_fmt',
        'yuv420p',
        blank,
      ]);
      const { videoId: noFaceId } = await submitVideo(pipeline, { path: blank, owner: 'viewer' });
      await waitForVideos(pipeline, [noFaceId], { timeoutMs: 60_000, pollMs: 100 });
      const page = await browser.newPage();
      await page.goto(`${base}/v1/videos/${noFaceId}/view#token=${TOKEN}`);
      await page.waitForSelector('body[data-ready="chart"], body[data-ready="video"]', { timeout: 30_000 });
      expect(await page.$eval('#msg', (m) => m.textContent)).toMatch(
        /^no face was found in any of the 10 frames analysed/,
      );
      expect(await page.$$eval('#legend span', (spans) => spans.map((sp) => sp.textContent))).toContain('no face');
      await page.close();
    }, 90_000);
  });
});
