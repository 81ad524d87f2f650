import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-build-faceapi-'));

describe('fer-stream models build-faceapi', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[]) =>
    spawnSync(process.execPath, [path.join(repo, 'bin/fer-stream.js'), 'models', 'build-faceapi', ...args], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, FER_MODELS_DIR: path.join(dir, 'default') },
    });

  it('writes both model directories into --out and says what it wrote', () => {
    const out = path.join(dir, 'out');
    const result = run(['--out', out]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/converted @vladmandic\/face-api \d+\.\d+\.\d+ models/);
    const spec = JSON.parse(
      readFileSync(path.join(out, 'faceapi-tiny-face-detector', 'faceapi-detector.json'), 'utf8'),
    );
    expect(spec).toMatchObject({
      type: 'faceapi-tiny-face-detector',
      inputName: 'image',
      outputName: 'grid',
      inputSize: 416,
      scoreThreshold: 0.5,
      nmsIou: 0.4,
    });
    const pre = JSON.parse(readFileSync(path.join(out, 'faceapi-face-expression', 'preprocessor_config.json'), 'utf8'));
    expect(pre).toMatchObject({
      size: { height: 112, width: 112 },
      rescale_factor: 1 / 255,
      image_std: [1, 1, 1],
      pad_to_square: true,
    });
    expect(pre.image_mean.map((m: number) => m * 255)).toEqual(
      [122.782, 117.001, 104.298].map((m) => expect.closeTo(m, 9)),
    );
    expect(statSync(path.join(out, 'faceapi-face-expression', 'onnx', 'model.onnx')).size).toBeGreaterThan(300_000);
  });

  it('defaults to the models directory and rejects unknown options', () => {
    expect(run([]).status).toBe(0);
    expect(statSync(path.join(dir, 'default', 'faceapi-tiny-face-detector', 'model.onnx')).isFile()).toBe(true);
    const bad = run(['--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bogus/);
  });
});
