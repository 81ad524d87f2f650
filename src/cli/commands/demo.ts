// `fer-stream demo`: the whole system on a fresh machine, needing only `npm install` and Redis.
// Makes a short video from face-api's sample photos, then analyses it end to end exactly as a
// deployment does — submitted through Redis, split into frame chunks by a producer, analysed by a
// worker with the compact profile (face-api's models, converted on first use), aggregated — all in
// this one process, and prints the per-video result.

import { logEnvironment } from '../../config/process-env.ts';
import { count } from '../plural.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { loadConfig } from '../../config/index.ts';
import { renderTimelineSvg, toCsv, toPersonsCsv, type Distribution, type VideoResult } from '../../results/index.ts';
import { createProfileAnalyzer } from '../../inference/profiles.ts';
import { compactExpression } from '../../models/compact-expression.ts';
import { deleteVideo, getVideoResult, getVideoStatus, submitVideo, type Pipeline } from '../../pipeline/index.ts';
import { abandonQueuedInference } from '../../inference/backend/index.ts';
import { watchInterrupts } from '../interrupt.ts';
import { startProducer } from '../../producer/index.ts';
import { startWorker } from '../../worker/index.ts';
import { tracker } from '../../app/tracking.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { EXIT_CODES, type Command } from '../command.ts';
import { openPipeline } from '../connect.ts';
import { withRedisForOneMachine } from '../private-redis.ts';
import { makeDemoVideo } from '../demo/make-video.ts';
import { ensureFaceApiModels } from '../../models/faceapi/convert.ts';

const pct = (v: number) => `${(v * 100).toFixed(0)}%`;

function topLabels(distribution: Distribution, k = 3): string {
  return Object.entries(distribution.frameShare)
    .filter(([, share]) => share > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([label, share]) => `${label} ${pct(share)}`)
    .join(', ');
}

async function waitForResult(
  pipeline: Pipeline,
  videoId: string,
  timeoutMs: number,
  onProgress: (line: string) => void,
  signal: AbortSignal,
): Promise<VideoResult> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    signal.throwIfAborted();
    const status = await getVideoStatus(pipeline, videoId);
    if (status === null) throw new Error(`video ${videoId} disappeared from Redis`);
    if (status.state === 'failed') throw new Error(`the video failed: ${status.error?.code}: ${status.error?.message}`);
    if (status.state === 'completed') {
      const result = await getVideoResult<VideoResult>(pipeline, videoId);
      if (result === null) throw new Error(`video ${videoId} completed but its result is missing`);
      return result;
    }
    const p = status.progress;
    const line = `  ${status.state}: ${p.framesDone}/${p.framesTotal ?? p.framesExpected ?? '?'} frames analysed`;
    if (line !== last) onProgress(line);
    last = line;
    if (Date.now() > deadline) throw new Error(`no result after ${timeoutMs / 1000} s (${line.trim()})`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const demo: Command = {
  summary: 'Analyse a demo video made from face-api sample photos, end to end (needs only Redis)',
  usage: [
    'Usage: fer-stream demo [--out DIR] [--fps N] [--timeout S]',
    '',
    '  --out DIR     where the video and results go (default ./fer-stream-demo):',
    '                demo.mp4, result.json, result.csv, result.persons.csv, timeline.svg',
    '  --fps N       frames sampled per second of video (default 2)',
    '  --timeout S   give up after S seconds (default 600)',
    '',
    'Runs a producer and a worker in this process against Redis (REDIS_URL; unset and nothing on',
    '127.0.0.1:6379: a private redis-server on a Unix socket, stopped at the end) under the key prefix',
    '<FER_REDIS_PREFIX>-demo, with the compact profile (face-api models, converted on first use',
    'into FER_MODELS_DIR). Exit codes: 0 done, 1 failed, 4 Redis unreachable, 130 interrupted (Ctrl-C:',
    'the demo video is cancelled and removed from Redis; a second Ctrl-C quits at once).',
  ].join('\n'),
  // A private Redis when none runs and REDIS_URL is unset (src/cli/private-redis.ts).
  run: (args) => withRedisForOneMachine(() => runDemo(args)),
};

async function runDemo(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    { out: { type: 'string' }, fps: { type: 'string' }, timeout: { type: 'string' } },
    false,
  );
  const fps = values.fps === undefined ? 2 : Number(values.fps);
  if (!(fps > 0 && fps <= 30)) throw new UsageError(`--fps must be a number in (0, 30], got "${values.fps}"`);
  const timeoutS = values.timeout === undefined ? 600 : Number(values.timeout);
  if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a positive number of seconds, got "${values.timeout}"`);
  const outDir = path.resolve(values.out ?? 'fer-stream-demo');

  const base = loadConfig();
  // Its own key prefix: the demo's jobs are not taken by other workers, and it takes none of theirs.
  const config = loadConfig(process.env, { redisPrefix: `${base.redisPrefix}-demo` });
  // Errors only unless LOG_LEVEL says otherwise: the expected CUDA→CPU fallback warning would only confuse here.
  const logger = pino({ name: 'demo', level: logEnvironment().level ?? 'error' }, pino.destination(2));
  const started = performance.now();

  console.log(`1/4 making the demo video from face-api's sample photos …`);
  await mkdir(outDir, { recursive: true });
  const video = await makeDemoVideo({ out: path.join(outDir, 'demo.mp4') });
  console.log(`    ${video.file}: ${video.photos} photos, ${video.seconds} s`);

  const pipeline = await openPipeline(config);
  console.log(
    `2/4 loading the compact profile (${config.faces.compactDetector} face detector + face-api's expression net) from ${config.modelsDir} …`,
  );
  const analyzer = await createProfileAnalyzer(config, 'compact', {
    prepareFaceApi: ensureFaceApiModels,
    compactExpression: (c) => compactExpression(c),
    logger,
    onConvert: (p) =>
      console.log(
        `    first use: converting face-api's weights (npm package) to ONNX into ${p.detectorDir} and ${p.expressionDir}`,
      ),
  }).catch(async (error: unknown) => {
    await pipeline.close();
    throw error;
  });
  const producer = startProducer(pipeline, { logger });
  const worker = startWorker(pipeline, {
    analyzer,
    logger,
    finalizeOptions: { assignTracks: tracker(config), cutThreshold: config.faces.cutThreshold },
  });
  // Ctrl-C: queued inference dropped, the video cancelled and deleted (see analyze).
  const interrupts = watchInterrupts(() => {
    console.log('    Ctrl-C: cancelling the demo video and removing it from Redis (again to quit at once)');
    void abandonQueuedInference('the demo was interrupted');
  });
  let result: VideoResult | undefined;
  let videoId: string | undefined;
  try {
    console.log(
      `3/4 analysing through Redis (${config.redisUrl}, prefix ${config.redisPrefix}): producer → frame chunks → worker → aggregation …`,
    );
    ({ videoId } = await submitVideo(pipeline, { path: video.file, name: 'demo.mp4', options: { fps } }));
    result = await waitForResult(pipeline, videoId, timeoutS * 1000, (line) => console.log(line), interrupts.signal);
  } finally {
    interrupts.dispose();
    await producer.close();
    await worker.close(); // closes the analyzer too
    // Interrupted, timed out or failed: nothing of it stays for the next demo's worker to pick up.
    if (result === undefined && videoId !== undefined) await deleteVideo(pipeline, videoId).catch(() => undefined);
    await pipeline.close();
  }

  await writeFile(path.join(outDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(path.join(outDir, 'result.csv'), toCsv(result));
  await writeFile(path.join(outDir, 'result.persons.csv'), toPersonsCsv(result));
  await writeFile(path.join(outDir, 'timeline.svg'), renderTimelineSvg(result));

  const c = result.counts;
  console.log(
    `4/4 result (video ${result.videoId}, model ${result.model.name}, detector ${result.model.detector ?? 'none'}):`,
  );
  console.log(
    `    ${count(c.sampled, 'frame')} sampled, ${c.analysed} analysed, ${c.failed} failed; ${c.withFace} with a face; ${count(c.faces, 'face')} in ${count(c.tracks, 'track')} of ${count(c.persons, 'person')}${c.reusedFaces > 0 ? `; ${count(c.reusedFaces, 'face')} reused an earlier frame's classification` : ''}`,
  );
  if (result.dominant)
    console.log(
      `    dominant expression: ${result.dominant.label} (${pct(result.dominant.frameShare)} of frames with a face)`,
    );
  console.log(`    expressions over the video: ${topLabels(result.distribution, 7)}`);
  console.log(
    `    scene cuts: ${result.cuts.length === 0 ? 'none' : result.cuts.map((cut) => `${cut.timestamp.toFixed(1)} s`).join(', ')} (a track never spans one)`,
  );
  console.log('    tracks (a face followed across frames):');
  for (const t of result.tracks) {
    console.log(
      `      #${String(t.trackId).padEnd(3)} ${t.firstTimestamp.toFixed(1)}–${t.lastTimestamp.toFixed(1)} s, ${String(t.frames).padStart(2)} frames: ${t.dominant ? `${t.dominant.label}` : '—'} (${topLabels(t.distribution)})`,
    );
  }
  console.log('    persons (tracks joined across cuts by face identity):');
  for (const p of result.persons) {
    console.log(
      `      person ${String(p.personId).padEnd(3)} ${p.screenTimeSeconds.toFixed(1)} s on screen in ${count(p.trackIds.length, 'track')}: ${p.dominant ? `${p.dominant.label}` : '—'} (${topLabels(p.distribution)})`,
    );
  }
  console.log('    per frame (time: faces → expressions):');
  for (const f of result.frames) {
    const faces = f.faces
      .map((face) => `${face.label} ${pct(face.probabilities[result.labels.indexOf(face.label)] ?? 0)}`)
      .join(', ');
    console.log(
      `      ${f.timestamp.toFixed(1).padStart(5)} s: ${f.faces.length} → ${faces || (f.error ? `error: ${f.error}` : '(no face)')}`,
    );
  }
  console.log(
    `wrote ${path.join(outDir, 'result.json')}, result.csv, result.persons.csv, timeline.svg (${((performance.now() - started) / 1000).toFixed(1)} s in all)`,
  );
  return c.failed > 0 && c.analysed === 0 ? EXIT_CODES.failure : EXIT_CODES.ok;
}

export default demo;
