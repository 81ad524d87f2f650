// `fer-stream models fit-head` through the real CLI on real labelled faces (FER2013 PublicTest in
// ../shared): a user's own two classes (smiling / not smiling, from happy and neutral+sad faces),
// a held-out share scored, and the written directory used by `eval` with --model.

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';
import { runCli } from '../helpers/cli-processes.ts';

describeWithShared('fer-stream models fit-head', () => {
  let tmp: string;
  const env = () => ({
    ...process.env,
    FER_EXECUTION_PROVIDERS: 'cpu',
    LOG_LEVEL: 'warn',
    FER_MODELS_DIR: path.join(tmp, 'models'),
  });
  const cli = (args: string[]) => runCli(args, env());
  const firstOf = async (label: string, n: number, skip = 0) =>
    (await readdir(sharedPath('data', 'fer2013-publictest', label)))
      .sort()
      .slice(skip, skip + n)
      .map((f) => sharedPath('data', 'fer2013-publictest', label, f));

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-fit-head-'));
    const rows = ['path,label'];
    for (const f of await firstOf('happy', 120)) rows.push(`${f},smiling`);
    for (const f of [...(await firstOf('neutral', 60)), ...(await firstOf('sad', 60))]) rows.push(`${f},not_smiling`);
    await writeFile(path.join(tmp, 'train.csv'), `${rows.join('\n')}\n`);
    const test = ['path,label'];
    for (const f of await firstOf('happy', 40, 200)) test.push(`${f},smiling`);
    for (const f of [...(await firstOf('neutral', 20, 200)), ...(await firstOf('sad', 20, 200))])
      test.push(`${f},not_smiling`);
    await writeFile(path.join(tmp, 'test.csv'), `${test.join('\n')}\n`);
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('fits a head for your own labels, scores a held-out share, and writes a model directory eval takes with --model', async () => {
    const out = path.join(tmp, 'smile-head');
    const fit = await cli([
      'models',
      'fit-head',
      '--data',
      path.join(tmp, 'train.csv'),
      '--out',
      out,
      '--holdout',
      '0.25',
      '--flip',
      '--json',
    ]);
    expect(fit.code, fit.stderr).toBe(0);
    const report = JSON.parse(fit.stdout);
    expect(report.labels).toEqual(['not_smiling', 'smiling']);
    expect(report.trainImages + report.heldOutImages).toBe(240);
    expect(report.heldOutImages).toBe(60);
    expect(report.heldOutAccuracy).toBeGreaterThanOrEqual(0.75);
    // Not the seven expressions: there is no original head to compare with.
    expect(report.baseHeldOutAccuracy).toBeNull();
    const config = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
    expect(config.id2label).toEqual({ 0: 'not_smiling', 1: 'smiling' });

    const evalOut = path.join(tmp, 'eval');
    const scored = await cli(['eval', path.join(tmp, 'test.csv'), '--no-detect', '--model', out, '--out', evalOut]);
    expect(scored.code, scored.stderr).toBe(0);
    const evaluation = JSON.parse(await readFile(path.join(evalOut, 'report.json'), 'utf8'));
    expect(evaluation.model.labels).toEqual(['not_smiling', 'smiling']);
    expect(evaluation.report.accuracy).toBeGreaterThanOrEqual(0.75);
  }, 180_000);

  it('says what is wrong with the data: one class only, a bad held-out share', async () => {
    await writeFile(
      path.join(tmp, 'one.csv'),
      `path,label\n${(await firstOf('happy', 5)).map((f) => `${f},happy`).join('\n')}\n`,
    );
    const one = await cli(['models', 'fit-head', '--data', path.join(tmp, 'one.csv'), '--out', path.join(tmp, 'x')]);
    expect(one.code).not.toBe(0);
    expect(one.stderr).toMatch(/at least two classes; found only "happy"/);
    const share = await cli(['models', 'fit-head', '--data', path.join(tmp, 'one.csv'), '--holdout', '0.9']);
    expect(share.code).toBe(2);
    expect(share.stderr).toMatch(/--holdout must be a share 0\.\.0\.5/);
  }, 60_000);
});
