// Persons across cuts: a generated shot / reverse-shot interview of two people (obama and biden,
// each from three different photographs of the fixtures, pasted over real scenery, one background
// each; bench/persons/interviews.ts), encoded as H.264 and run through the whole pipeline with the
// compact profile. Tracks end at cuts; the result must join them into exactly two persons, each
// holding the three shots of one person and no face of the other, with a summary per person.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeInterviews, type Interview } from '../../bench/persons/interviews.ts';
import { trackerOptions } from '../../src/app/tracking.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { FrameAnalyzer } from '../../src/core/types.ts';
import { createProfileAnalyzer } from '../../src/inference/profiles.ts';
import { ensureFaceApiModels } from '../../src/models/faceapi/convert.ts';
import { createPipeline, getVideoResult, submitVideo, waitForVideos, type Pipeline } from '../../src/pipeline/index.ts';
import { mediaBinaries, startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { faceTracker, toPersonsCsv, type VideoResult } from '../../src/results/index.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/index.ts';
import { loadFacePatches, sceneryScenes } from '../helpers/face-truth/scenes.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';

const { prefix, cleanup } = testPrefix(import.meta.url);
const FPS = 2;

/** Encodes the interview's frames, one per 1/FPS s, as a 10 fps H.264 file. */
function encode(interview: Interview, file: string): Promise<void> {
  const { width, height } = interview.frames[0]!.image;
  const ffmpeg = spawn(
    mediaBinaries().ffmpeg,
    [
      '-v',
      'error',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${width}x${height}`,
      '-r',
      String(FPS),
      '-i',
      'pipe:0',
      '-r',
      '10',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      file,
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const done = new Promise<void>((resolve, reject) =>
    ffmpeg.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}`)))),
  );
  for (const frame of interview.frames) ffmpeg.stdin.write(frame.image.data);
  ffmpeg.stdin.end();
  return done;
}

describeWithShared('persons across cuts', () => {
  let tmp: string;
  let pipeline: Pipeline;
  let producer: ProducerHandle;
  let worker: WorkerHandle;
  let analyzer: FrameAnalyzer;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-persons-'));
    const config = loadConfig(
      { FER_MODELS_DIR: path.join(tmp, 'models'), FER_EXECUTION_PROVIDERS: 'cpu', FER_INTRA_OP_THREADS: '1' },
      { pipeline: { fps: FPS, chunkFrames: 8 } },
    );
    analyzer = await createProfileAnalyzer(config, 'compact', { prepareFaceApi: ensureFaceApiModels });
    pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline });
    producer = startProducer(pipeline);
    worker = startWorker(pipeline, {
      analyzer,
      finalizeOptions: { assignTracks: faceTracker(trackerOptions(config)), cutThreshold: config.faces.cutThreshold },
    });
  });

  afterAll(async () => {
    await producer?.close();
    await worker?.close();
    await pipeline?.close();
    await cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  it('a shot / reverse-shot interview of two people: six shots, two persons, each with their own three shots', async () => {
    const facesDir = sharedPath('fixtures', 'faces');
    const [interview] = await makeInterviews(await loadFacePatches(facesDir), await sceneryScenes(facesDir), {
      variants: 1,
      framesPerShot: 6,
      kinds: ['shot / reverse-shot'],
    });
    expect(interview!.persons).toEqual(['obama', 'biden']);
    const video = path.join(tmp, 'interview.mp4');
    await encode(interview!, video);

    const { videoId } = await submitVideo(pipeline, { path: video });
    const statuses = await waitForVideos(pipeline, [videoId], { timeoutMs: 180_000 });
    expect(statuses.get(videoId)!.state, statuses.get(videoId)!.error?.message).toBe('completed');
    const result = (await getVideoResult<VideoResult>(pipeline, videoId))!;
    expect(result.counts.sampled).toBe(interview!.frames.length);
    expect(result.model.identity).toBe('faceapi-face-recognition');

    // Every face's personId against who is really in that frame: one personId per true person and back.
    const personOf = new Map<number, Set<string>>();
    const idsOf = new Map<string, Set<number>>();
    const shotsOf = new Map<number, Set<number>>();
    for (const frame of result.frames) {
      const truth = interview!.frames[frame.index]!;
      for (const face of frame.faces) {
        expect(face.personId, `frame ${frame.index}`).not.toBeNull();
        const who = truth.faces[0]!.person;
        personOf.set(face.personId!, (personOf.get(face.personId!) ?? new Set()).add(who));
        idsOf.set(who, (idsOf.get(who) ?? new Set()).add(face.personId!));
        shotsOf.set(face.personId!, (shotsOf.get(face.personId!) ?? new Set()).add(truth.shot));
      }
    }
    expect(result.counts.persons).toBe(2);
    expect([...personOf.values()].map((s) => s.size)).toEqual([1, 1]);
    expect([...idsOf.values()].map((s) => s.size)).toEqual([1, 1]);
    // Tracks end at cuts (or resume when the same face comes back in the same scene): each person
    // holds all three of their shots.
    for (const person of result.persons) {
      expect([...shotsOf.get(person.personId)!].sort(), `person ${person.personId}`).toHaveLength(3);
      expect(person.trackIds.length).toBeGreaterThanOrEqual(2);
      expect(person.screenTimeSeconds).toBeCloseTo(person.frames / FPS, 6);
      expect(person.dominant).not.toBeNull();
    }
    expect(result.tracks.every((t) => t.personId !== null)).toBe(true);
    // Person 1 appears first: obama opens the interview.
    expect([...personOf.get(result.persons[0]!.personId)!]).toEqual(['obama']);
    expect(toPersonsCsv(result).trim().split('\r\n')).toHaveLength(3);
  });
});
