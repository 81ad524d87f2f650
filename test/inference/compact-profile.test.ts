// The compact profile end to end on real photographs: face-api's models converted on first use,
// detect-then-classify, the expression each fixture photo shows.

import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/index.ts';
import type { FrameAnalyzer } from '../../src/core/types.ts';
import { ensureFaceApiModels, faceApiModelsInstalled } from '../../src/models/faceapi/convert.ts';
import { installLocal } from '../../src/models/fetch/fetch.ts';
import { buildSyntheticVitModelDir } from '../../src/models/vit/index.ts';
import { decodeToRgb } from '../../src/inference/preprocess.ts';
import { chooseProfile, createProfileAnalyzer } from '../../src/inference/profiles.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';

const EXPECTED: Record<string, string> = {
  'pexels_angry.jpg': 'angry',
  'pexels_happy_baby.jpg': 'happy',
  'wh_obama_portrait_smile.jpg': 'happy',
  'pexels_sad_baby.jpg': 'sad',
  'pexels_surprised.jpg': 'surprise',
  'pexels_neutral.jpg': 'neutral',
};

let modelsDir: string;
const configFor = (dir: string, models: Partial<Config['models']> = {}) =>
  loadConfig({}, { modelsDir: dir, models, inference: { executionProviders: ['cpu'], intraOpThreads: 1 } });

beforeAll(async () => {
  modelsDir = await mkdtemp(path.join(os.tmpdir(), 'fer-compact-'));
});
afterAll(async () => {
  if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
});

describe('profile choice', () => {
  it('auto picks compact and says why when no ViT is installed; vit once the ViT and its detector are there', async () => {
    const dir = path.join(modelsDir, 'choice');
    const auto = await chooseProfile(configFor(dir));
    expect(auto).toMatchObject({ profile: 'compact', explicit: false });
    expect(auto.reason).toBe('the ViT profile is not installed (npx fer-stream models fetch vit-fer yunet)');
    expect(auto.details).toMatch(/missing: ViT expression model at .*vit-fer/);
    expect(await chooseProfile(configFor(dir), 'vit')).toMatchObject({ profile: 'vit', explicit: true });
    await expect(chooseProfile(configFor(dir), 'huge')).rejects.toThrow(/unknown profile "huge"/);

    // Presence is what auto looks at (loading validates the files later).
    await mkdir(path.join(dir, 'vit-fer', 'onnx'), { recursive: true });
    await writeFile(path.join(dir, 'vit-fer', 'onnx', 'model.onnx'), '');
    expect((await chooseProfile(configFor(dir))).profile).toBe('compact');
    await mkdir(path.join(dir, 'yunet-s-dynamic'), { recursive: true });
    await writeFile(path.join(dir, 'yunet-s-dynamic', 'detector.json'), '{}');
    expect(await chooseProfile(configFor(dir))).toMatchObject({ profile: 'vit', explicit: false });
    expect((await chooseProfile(configFor(dir, { profile: 'compact' }))).profile).toBe('compact');
  });

  it('face-api models are converted once, and again only when they came from another face-api version', async () => {
    const dir = path.join(modelsDir, 'versions');
    const builds: string[] = [];
    await ensureFaceApiModels(dir, (p) => builds.push(p.expressionDir));
    await ensureFaceApiModels(dir, (p) => builds.push(p.expressionDir));
    expect(builds).toHaveLength(1);
    const configFile = path.join(dir, 'faceapi-face-expression', 'config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8'));
    await writeFile(
      configFile,
      JSON.stringify({ ...config, source: '@vladmandic/face-api 0.0.1 (MIT), model/face_expression_model' }),
    );
    await ensureFaceApiModels(dir, (p) => builds.push(p.expressionDir));
    expect(builds).toHaveLength(2);
    expect(JSON.parse(await readFile(configFile, 'utf8')).source).not.toMatch(/0\.0\.1/);
  });

  it('vit fails with what to fetch when its models are missing', async () => {
    await expect(createProfileAnalyzer(configFor(path.join(modelsDir, 'empty')), 'vit')).rejects.toThrow(
      /vit profile needs: ViT expression model at .*models fetch vit-fer/,
    );
  });
});

describeWithShared('vit profile', () => {
  it('auto picks vit once a ViT and the configured detector are installed, and runs detect-then-classify with them', async () => {
    const dir = path.join(modelsDir, 'with-vit');
    await installLocal(sharedPath('models'), dir, ['yunet']);
    // Weights do not matter here (synthetic, tiny): what is checked is which models the profile runs.
    await buildSyntheticVitModelDir({ outDir: path.join(dir, 'vit-fer'), preset: 'tiny', seed: 3 });
    const config = configFor(dir);
    const choice = await chooseProfile(config);
    expect(choice).toMatchObject({ profile: 'vit', explicit: false });
    const analyzer = await createProfileAnalyzer(config, choice.profile, { prepareFaceApi: ensureFaceApiModels });
    try {
      expect(analyzer.info).toMatchObject({
        name: 'vit-fer',
        detector: 'yunet-s-dynamic (below 0.85 confirmed by blazeface-back)',
      });
      const { faces } = await analyzer.analyze(
        await decodeToRgb(await readFile(sharedPath('fixtures', 'faces', 'wh_two_people.jpg'))),
      );
      expect(faces.length).toBe(2);
      expect(faces[0]!.probabilities).toHaveLength(analyzer.info.labels.length);
    } finally {
      await analyzer.close();
    }
  });
});

describeWithShared('compact profile on the fixture photos', () => {
  let analyzer: FrameAnalyzer;

  beforeAll(async () => {
    analyzer = await createProfileAnalyzer(configFor(modelsDir), 'compact', { prepareFaceApi: ensureFaceApiModels });
  });
  afterAll(async () => {
    await analyzer?.close();
  });

  it('converted the models into the models directory on first use', async () => {
    expect(await faceApiModelsInstalled(modelsDir)).toBe(true);
    const config = JSON.parse(await readFile(path.join(modelsDir, 'faceapi-face-expression', 'config.json'), 'utf8'));
    expect(Object.values(config.id2label)).toEqual([
      'neutral',
      'happy',
      'sad',
      'angry',
      'fearful',
      'disgusted',
      'surprised',
    ]);
    expect((await stat(path.join(modelsDir, 'faceapi-tiny-face-detector', 'model.onnx'))).size).toBeGreaterThan(
      100_000,
    );
  });

  it.each(Object.entries(EXPECTED))('%s reads as %s', async (photo, expected) => {
    const frame = await decodeToRgb(await readFile(sharedPath('fixtures', 'faces', photo)));
    const { faces } = await analyzer.analyze(frame);
    expect(faces.length).toBeGreaterThanOrEqual(1);
    const face = faces[0]!;
    const shown = analyzer.info.labels.map((l, i) => `${l} ${face.probabilities[i]!.toFixed(3)}`).join(', ');
    console.log(
      `${photo}: ${faces.length} face(s); best face (score ${face.detectorScore?.toFixed(3)}): ${face.label} (${shown})`,
    );
    expect(face.label).toBe(expected);
  });

  it('finds the faces of the multi-person photos', async () => {
    // The tiny detector (like face-api itself, see parity.test.ts) finds 4 of the group's 5 faces at 416.
    const group = await analyzer.analyze(
      await decodeToRgb(await readFile(sharedPath('fixtures', 'faces', 'pexels_group.jpg'))),
    );
    expect(group.faces.length).toBe(4);
    const two = await analyzer.analyze(
      await decodeToRgb(await readFile(sharedPath('fixtures', 'faces', 'wh_two_people.jpg'))),
    );
    expect(two.faces.length).toBe(2);
    expect(two.faces.every((f) => f.detectorScore !== null && f.detectorScore > 0.5)).toBe(true);
  });
});
