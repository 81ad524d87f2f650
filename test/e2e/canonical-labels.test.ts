// Results, CSV and API answer in the canonical expression labels (angry, disgust, fear, happy,
// neutral, sad, surprise) for both profiles, whatever the model calls its classes and in whatever
// order it emits them: the compact profile's face-api net (neutral, happy, sad, angry, fearful,
// disgusted, surprised, + mini-Xception in FER2013 order) and a vit-profile model whose config.json
// lists seed-style names (`anger` …) shuffled. A real talking-face video through the pipeline, read
// back through the HTTP API as JSON, CSV, tracks CSV and persons CSV.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPipelineVideoService } from '../../src/api/pipeline-service.ts';
import { buildApiServer } from '../../src/api/server.ts';
import { trackerOptions } from '../../src/app/tracking.ts';
import { loadConfig } from '../../src/config/index.ts';
import { CANONICAL_EXPRESSIONS } from '../../src/core/expressions.ts';
import type { FrameAnalyzer, ModelInfo } from '../../src/core/types.ts';
import { createProfileAnalyzer, type ProfileName } from '../../src/inference/profiles.ts';
import { compactExpression } from '../../src/models/compact-expression.ts';
import { ensureFaceApiModels } from '../../src/models/faceapi/convert.ts';
import { installLocal } from '../../src/models/fetch/fetch.ts';
import { buildSyntheticVitModelDir } from '../../src/models/vit/index.ts';
import { createPipeline, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { faceTracker, type VideoResult } from '../../src/results/index.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';

const SEED_STYLE_SHUFFLED = ['sad', 'anger', 'surprised', 'neutral', 'happy', 'disgusted', 'fearful'];
const canonical = [...CANONICAL_EXPRESSIONS];
const { prefix, cleanup } = testPrefix(import.meta.url);

describeWithShared('canonical labels in every answer, both profiles', () => {
  let tmp: string;
  const running: Array<{
    pipeline: Pipeline;
    producer: ProducerHandle;
    worker: WorkerHandle;
    analyzer: FrameAnalyzer;
    app: FastifyInstance;
  }> = [];

  async function start(profile: ProfileName) {
    const config = loadConfig(
      { FER_MODELS_DIR: path.join(tmp, 'models'), FER_EXECUTION_PROVIDERS: 'cpu', FER_INTRA_OP_THREADS: '1' },
      { pipeline: { fps: 5, chunkFrames: 8 } },
    );
    const analyzer = await createProfileAnalyzer(config, profile, {
      prepareFaceApi: ensureFaceApiModels,
      compactExpression,
    });
    const pipeline = createPipeline({ redisUrl: redisUrl(), prefix: `${prefix}-${profile}`, config: config.pipeline });
    const producer = startProducer(pipeline);
    const worker = startWorker(pipeline, {
      analyzer,
      finalizeOptions: { assignTracks: faceTracker(trackerOptions(config)), cutThreshold: config.faces.cutThreshold },
    });
    const app = await buildApiServer({
      config: {
        uploadDir: path.join(tmp, `uploads-${profile}`),
        inputDir: sharedPath('fixtures', 'video'),
        maxUploadBytes: 1 << 20,
        maxJsonBytes: 4096,
      },
      service: createPipelineVideoService(pipeline),
    });
    running.push({ pipeline, producer, worker, analyzer, app });
    return { pipeline, app, analyzer };
  }

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-canonical-'));
    const modelsDir = path.join(tmp, 'models');
    await installLocal(sharedPath('models'), modelsDir, ['yunet']);
    const { models } = loadConfig({ FER_MODELS_DIR: modelsDir });
    await buildSyntheticVitModelDir({
      outDir: path.join(modelsDir, models.vitModel),
      preset: 'tiny',
      seed: 5,
      config: { labels: SEED_STYLE_SHUFFLED },
    });
  }, 120_000);

  afterAll(async () => {
    for (const r of running) {
      await r.app.close();
      await r.producer.close();
      await r.worker.close();
      await r.pipeline.close();
    }
    await cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  it.each([
    ['compact', ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised']],
    ['vit', SEED_STYLE_SHUFFLED],
  ] as const)(
    '%s: JSON, CSVs and the API answer in canonical names and order; the model keeps its own',
    async (profile, ownLabels) => {
      const { pipeline, app, analyzer } = await start(profile);
      expect(analyzer.info.labels).toEqual(canonical);
      const { videoId } = await submitVideo(pipeline, { path: sharedPath('fixtures', 'video', 'grid_bbaf2n.mp4') });
      await waitForVideos(pipeline, [videoId], { timeoutMs: 120_000 });

      const json = await app.inject({ method: 'GET', url: `/v1/videos/${videoId}/results` });
      expect(json.statusCode).toBe(200);
      const result = json.json() as VideoResult;
      expect(result.labels).toEqual(canonical);
      expect(result.model.labels).toEqual(canonical);
      // The model's own names stay in its block (the compact default is an ensemble: its first member's).
      const members = result.model.preprocessing.ensemble as ModelInfo[] | undefined;
      expect(result.model.modelLabels ?? members?.[0]?.modelLabels).toEqual([...ownLabels]);
      expect(result.counts.withFace).toBeGreaterThan(10);
      for (const frame of result.frames) {
        for (const face of frame.faces) {
          expect(face.probabilities).toHaveLength(7);
          expect(face.label).toBe(canonical[face.probabilities.indexOf(Math.max(...face.probabilities))]);
        }
      }
      expect(Object.keys(result.distribution.meanProbability)).toEqual(canonical);
      expect(canonical).toContain(result.dominant!.label);
      for (const track of result.tracks) expect(Object.keys(track.distribution.meanProbability)).toEqual(canonical);
      for (const person of result.persons) expect(Object.keys(person.distribution.meanProbability)).toEqual(canonical);

      const probabilityColumns = canonical.map((l) => `p_${l}`);
      for (const format of ['csv', 'tracks-csv', 'persons-csv']) {
        const csv = await app.inject({ method: 'GET', url: `/v1/videos/${videoId}/results?format=${format}` });
        expect(csv.statusCode, format).toBe(200);
        const header = csv.body.split('\r\n')[0]!.split(',');
        expect(
          header.filter((c) => c.startsWith('p_')),
          format,
        ).toEqual(probabilityColumns);
      }
      const faceRows = (await app.inject({ method: 'GET', url: `/v1/videos/${videoId}/results?format=csv` })).body
        .trim()
        .split('\r\n')
        .slice(1);
      const header = (await app.inject({ method: 'GET', url: `/v1/videos/${videoId}/results?format=csv` })).body
        .split('\r\n')[0]!
        .split(',');
      for (const row of faceRows) {
        const label = row.split(',')[header.indexOf('face_label')]!;
        if (label !== '') expect(canonical).toContain(label);
      }
    },
    240_000,
  );
});
