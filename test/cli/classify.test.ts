import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Box } from '../../src/core/types.ts';
import { installLocal } from '../../src/models/fetch/fetch.ts';
import { matchFaces } from '../helpers/face-truth/match.ts';
import { FIXTURE_TRUTH } from '../helpers/face-truth/scenes.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';
import { writeTinyClassifierDir } from '../inference/fixtures/tiny-classifier.ts';
import { runCli } from '../helpers/cli-processes.ts';

// Runs the real CLI entry point (bin/fer-stream.js → tsx), which also proves the session threads'
// .mjs bootstrap works outside vitest.
const env = { ...process.env, FER_EXECUTION_PROVIDERS: 'cpu', FER_INTRA_OP_THREADS: '1', LOG_LEVEL: 'warn' };

const cli = (args: string[], extraEnv: Record<string, string> = {}) => runCli(args, { ...env, ...extraEnv });

let tmp: string;
let model: string;
const file = (name: string) => path.join(tmp, name);
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-cli-classify-'));
  model = await writeTinyClassifierDir(file('model'));
  await sharp({ create: { width: 30, height: 20, channels: 3, background: { r: 250, g: 0, b: 0 } } })
    .png()
    .toFile(file('red.png'));
  await sharp({ create: { width: 30, height: 20, channels: 3, background: { r: 0, g: 0, b: 250 } } })
    .jpeg()
    .toFile(file('blue.jpg'));
  await writeFile(file('broken.jpg'), 'definitely not a jpeg');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('fer-stream classify', () => {
  it('--no-detect: the top labels per whole image; a bad image gets its own error and a non-zero exit code', async () => {
    const { code, stdout, stderr } = await cli([
      'classify',
      file('red.png'),
      file('broken.jpg'),
      file('blue.jpg'),
      '--model',
      model,
      '--no-detect',
      '--top',
      '2',
    ]);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${file('red.png')}: angry 0\\.\\d{3}, \\w+ 0\\.\\d{3}$`));
    expect(lines[1]).toMatch(new RegExp(`^${file('blue.jpg')}: fear `));
    expect(stderr).toContain(`${file('broken.jpg')}: error: not an image`);
  });

  it('--json gives one document with per image its faces (labels, top labels, probabilities), and exit code 0 when all succeed', async () => {
    const { code, stdout } = await cli(['classify', file('blue.jpg'), '--model', model, '--no-detect', '--json']);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.model).toMatchObject({
      name: 'model',
      detector: null,
      executionProvider: 'cpu',
      labels: ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'],
    });
    expect(doc.images).toHaveLength(1);
    expect(doc.images[0].faces).toHaveLength(1);
    const [whole] = doc.images[0].faces;
    expect(whole.label).toBe('fear');
    expect(whole.box).toEqual({ x: 0, y: 0, width: 30, height: 20 });
    expect(whole.top).toHaveLength(3);
    const total = Object.values(whole.probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 6);
  });

  it('exits with a usage error without images, and with a failure for a missing model directory', async () => {
    expect((await cli(['classify'])).code).toBe(2);
    const missing = await cli(['classify', file('red.png'), '--model', file('absent')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/model directory not found/);
    // Whole images without a model: the hint says what works offline.
    const offline = await cli(['classify', file('red.png'), '--no-detect'], { FER_MODELS_DIR: file('no-models') });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(
      /model directory not found.*Without --no-detect, classify detects faces with the compact profile, which needs no download; or install the ViT: fer-stream models fetch vit-fer/,
    );
  });
});

describeWithShared('fer-stream classify detects faces first', () => {
  const photo = () => sharedPath('fixtures', 'faces', 'pexels_group.jpg');
  const truth = FIXTURE_TRUTH.photos['pexels_group.jpg']!.map((f) => ({
    box: { x: f.box[0], y: f.box[1], width: f.box[2], height: f.box[3] },
    truncated: f.truncated === true,
  }));

  it('a group photo: every face with its own expression (compact profile, offline); a solid colour: no face', async () => {
    const { code, stdout } = await cli(['classify', photo(), file('red.png'), '--json'], {
      FER_MODELS_DIR: file('compact-models'),
    });
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    // Canonical names and order in every answer (the compact default averages two nets whose own orders differ).
    expect(doc.model).toMatchObject({
      name: 'faceapi-face-expression+mini-xception+flip',
      detector: 'blazeface-back (below 0.8 confirmed by blazeface-front)',
      labels: ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'],
    });
    const match = matchFaces(
      doc.images[0].faces.map((f: { box: Box; detectorScore: number }) => ({ box: f.box, score: f.detectorScore })),
      truth,
    );
    expect(match.missed, 'every whole face found').toEqual([]);
    expect(match.falseDetections).toEqual([]);
    expect(doc.images[1].faces).toEqual([]);
    const text = await cli(['classify', photo(), file('red.png')], { FER_MODELS_DIR: file('compact-models') });
    expect(text.stdout).toMatch(
      /pexels_group\.jpg: 4 faces\n( {2}face \d at \d+,\d+ \d+×\d+ \(score 0\.\d\d\): \w+ 0\.\d{3}, .*\n){4}/,
    );
    expect(text.stdout).toContain(`${file('red.png')}: no face found (--no-detect classifies the whole image)`);
  });

  it("--model DIR keeps detection: auto takes the vit profile's detector once installed (the 4 whole group faces, nothing else), compact otherwise", async () => {
    const models = file('vit-models');
    await installLocal(sharedPath('models'), models, ['yunet']);
    const vit = await cli(['classify', photo(), '--model', model, '--json'], { FER_MODELS_DIR: models });
    expect(vit.code).toBe(0);
    expect(vit.stderr).toContain('profile: vit — its detector (yunet-s-dynamic) is installed');
    const doc = JSON.parse(vit.stdout);
    expect(doc.model).toMatchObject({
      name: 'model',
      detector: 'yunet-s-dynamic (below 0.85 confirmed by blazeface-back)',
    });
    // The face cut by the photo's top edge (eyes outside it) is "don't care": YuNet alone scores it
    // below 0.85 and BlazeFace's second look does not confirm it; every whole face is found.
    const match = matchFaces(
      doc.images[0].faces.map((f: { box: Box; detectorScore: number }) => ({ box: f.box, score: f.detectorScore })),
      truth,
    );
    expect([match.found.length, match.missed.length, match.falseDetections.length]).toEqual([4, 0, 0]);
    const compact = JSON.parse(
      (await cli(['classify', photo(), '--model', model, '--profile', 'compact', '--json'], { FER_MODELS_DIR: models }))
        .stdout,
    );
    expect(compact.model).toMatchObject({
      name: 'model',
      detector: 'blazeface-back (below 0.8 confirmed by blazeface-front)',
    });
    expect(compact.images[0].faces).toHaveLength(4);
  }, 60_000);
});
