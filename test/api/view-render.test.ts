import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApiServer } from '../../src/api/server.ts';
import { writeAnnotatedVideo } from '../../src/producer/index.ts';
import { buildVideoResult } from '../../src/results/aggregate.ts';
import { frames, MODEL } from '../results/fixtures.ts';
import { describeWithTools } from '../helpers/system-tools.ts';
import { generateTestVideo } from '../helpers/videos.ts';
import { FakeVideoService } from './fake-service.ts';

// Annotated copies are rendered by real ffmpeg, at most FER_API_RENDER_CONCURRENCY at once per API
// process: viewers opened on many videos at once wait their turn instead of each starting a
// re-encode on the same CPUs.

describeWithTools('annotated copies rendered a few at a time', ['ffmpeg', 'the DejaVu font (drawtext)'], () => {
  let tmp: string;
  const service = new FakeVideoService();
  const apps: FastifyInstance[] = [];
  const VIDEOS = ['r-1', 'r-2', 'r-3', 'r-4'];

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-view-render-'));
    const progress = { framesExpected: 3, framesTotal: 3, framesDone: 3, framesFailed: 0, fraction: 1 };
    for (const id of VIDEOS) {
      service.statuses.set(id, { id, state: 'completed', progress, errors: [] });
      service.resultsById.set(
        id,
        buildVideoResult({
          videoId: id,
          frames: frames(['happy', 'sad', 'happy']),
          video: { durationSeconds: 1.5 },
          model: MODEL,
        }),
      );
      service.sources.set(id, generateTestVideo(path.join(tmp, `${id}.mp4`), { seconds: 1.5, width: 96, height: 72 }));
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await rm(tmp, { recursive: true, force: true });
  });

  /** Opens every video's annotated copy at once on a fresh API; how many renders ran together at most. */
  async function openAll(renderConcurrency: number): Promise<number> {
    let running = 0;
    let most = 0;
    const app = await buildApiServer({
      config: {
        uploadDir: path.join(tmp, `uploads-${renderConcurrency}`),
        maxUploadBytes: 1024,
        maxJsonBytes: 1024,
        renderConcurrency,
      },
      service,
      render: async (options) => {
        most = Math.max(most, ++running);
        try {
          await writeAnnotatedVideo(options);
        } finally {
          running--;
        }
      },
    });
    apps.push(app);
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const answers = await Promise.all(VIDEOS.map((id) => fetch(`${base}/v1/videos/${id}/video`)));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('video/mp4');
      expect(
        Buffer.from(await answer.arrayBuffer())
          .subarray(4, 8)
          .toString('latin1'),
      ).toBe('ftyp');
    }
    return most;
  }

  it('renders one at a time with a limit of 1, and two at once with 2: every viewer gets its video', async () => {
    expect(await openAll(1)).toBe(1);
    expect(await openAll(2)).toBe(2);
  }, 60_000);
});
