// `fer-stream eval` and `classify` over many real labelled faces (FER2013 PublicTest in ../shared),
// through the real CLI entry point.

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildMiniXceptionDir } from '../../src/models/human/convert.ts';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';
import { runCli } from '../helpers/cli-processes.ts';

const LABELS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'];

describeWithShared('fer-stream eval and classify on labelled faces', () => {
  let tmp: string;
  let miniXception: string;
  const env = () => ({
    ...process.env,
    FER_EXECUTION_PROVIDERS: 'cpu',
    LOG_LEVEL: 'warn',
    FER_MODELS_DIR: path.join(tmp, 'models'),
  });
  const cli = (args: string[]) => runCli(args, env());
  const firstOf = async (label: string, n: number) =>
    (await readdir(sharedPath('data', 'fer2013-publictest', label)))
      .sort()
      .slice(0, n)
      .map((f) => sharedPath('data', 'fer2013-publictest', label, f));

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-cli-eval-'));
    miniXception = (await buildMiniXceptionDir(path.join(tmp, 'models'))).dir;
    // A CSV of 8 faces per class, labels spelled as other data sets do (fearful, surprised).
    const rows = ['path,label'];
    for (const label of LABELS)
      for (const f of await firstOf(label, 8))
        rows.push(`${f},${label === 'fear' ? 'fearful' : label === 'surprise' ? 'surprised' : label}`);
    await writeFile(path.join(tmp, 'faces.csv'), `${rows.join('\n')}\n`);
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('whole images: a report consistent with its confusion matrix, in canonical labels, written as JSON, CSV, SVG and PNG', async () => {
    const out = path.join(tmp, 'eval-mx');
    const { code, stdout, stderr } = await cli([
      'eval',
      path.join(tmp, 'faces.csv'),
      '--no-detect',
      '--model',
      miniXception,
      '--out',
      out,
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/macro avg/);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report.model.labels).toEqual(LABELS);
    expect(report.model.modelLabels).toEqual(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
    const { confusion, total, accuracy, perClass } = report.report;
    expect(total).toBe(56);
    expect(confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(56);
    expect(accuracy).toBeCloseTo(confusion.reduce((s: number, row: number[], i: number) => s + row[i]!, 0) / 56, 10);
    expect(perClass.map((c: { support: number }) => c.support)).toEqual(LABELS.map(() => 8));
    // A real model on real faces: better than chance (1/7), far from perfect.
    expect(accuracy).toBeGreaterThan(0.3);
    expect(report.report.calibration.ece).toBeGreaterThan(0);
    expect(report.report.calibration.bins).toHaveLength(15);
    expect((await readFile(path.join(out, 'confusion.csv'), 'utf8')).split('\n')[0]).toBe(
      `true\\predicted,${LABELS.join(',')}`,
    );
    expect((await readFile(path.join(out, 'report.png'))).subarray(1, 4).toString()).toBe('PNG');
    expect(report.peakRssBytes).toBeGreaterThan(0);
  });

  it("with detection (the compact profile's default, converted on first use): faces found or counted as missing", async () => {
    const out = path.join(tmp, 'eval-compact');
    const { code, stderr } = await cli([
      'eval',
      path.join(tmp, 'faces.csv'),
      '--profile',
      'compact',
      '--out',
      out,
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report.model.name).toBe('faceapi-face-expression+mini-xception+flip');
    expect(report.model.detector).toBe('blazeface-back (below 0.8 confirmed by blazeface-front)');
    expect(report.report.total + report.noFace).toBe(56);
    expect(report.coverage).toBeCloseTo(report.report.total / 56, 10);
  });

  it('a label the models do not know is refused with the labels they have', async () => {
    await writeFile(path.join(tmp, 'odd.csv'), `${(await firstOf('happy', 1))[0]},contempt\n`);
    const { code, stderr } = await cli([
      'eval',
      path.join(tmp, 'odd.csv'),
      '--no-detect',
      '--model',
      miniXception,
      '--out',
      path.join(tmp, 'odd'),
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /"contempt" is none of the model's labels \(angry, disgust, fear, happy, neutral, sad, surprise\)/,
    );
  });

  it('classify of 3,000 files in one call exits 0 with an answer for each (a long command line no longer crashes onnxruntime)', async () => {
    const files: string[] = [];
    for (const label of LABELS) files.push(...(await firstOf(label, 1000)));
    const chosen = files.slice(0, 3000);
    expect(chosen).toHaveLength(3000);
    const { code, stdout, stderr } = await cli(['classify', '--no-detect', '--model', miniXception, ...chosen]);
    expect(code, stderr.slice(-2000)).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3000);
    // In input order, each with canonical labels.
    expect(lines.map((l) => l.slice(0, l.indexOf(': ')))).toEqual(chosen);
    for (const line of lines) expect(line).toMatch(/: (angry|disgust|fear|happy|neutral|sad|surprise) \d\.\d{3}/);
  }, 240_000);
});
