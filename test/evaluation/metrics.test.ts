import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalExpression, mapModelLabels, reorder } from '../../src/core/expressions.ts';
import { truthIndex } from '../../src/evaluation/evaluate.ts';
import { csvCells, listImages } from '../../src/evaluation/image-set.ts';
import { ClassificationScorer } from '../../src/evaluation/metrics.ts';
import { confusionCsv, reportSvg, reportText } from '../../src/evaluation/report-files.ts';

const oneHot = (k: number, n = 3) => Array.from({ length: n }, (_, i) => (i === k ? 1 : 0));

describe('classification report', () => {
  it("matches scikit-learn's classification_report on its documented example", () => {
    // sklearn: y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1]
    const scorer = new ClassificationScorer(['class 0', 'class 1', 'class 2']);
    [
      [0, 0],
      [1, 0],
      [2, 2],
      [2, 2],
      [2, 1],
    ].forEach(([t, p]) => scorer.add(t!, oneHot(p!)));
    const r = scorer.report();
    expect(r.perClass.map((c) => [c.precision, c.recall, c.support])).toEqual([
      [0.5, 1, 1],
      [0, 0, 1],
      [1, 2 / 3, 3],
    ]);
    expect(r.perClass.map((c) => c.f1.toFixed(2))).toEqual(['0.67', '0.00', '0.80']);
    expect(r.accuracy).toBe(0.6);
    expect([r.macro.precision, r.macro.recall, r.macro.f1].map((x) => x.toFixed(2))).toEqual(['0.50', '0.56', '0.49']);
    expect([r.weighted.precision, r.weighted.recall, r.weighted.f1].map((x) => x.toFixed(2))).toEqual([
      '0.70',
      '0.60',
      '0.61',
    ]);
    expect(r.confusion).toEqual([
      [1, 0, 0],
      [1, 0, 0],
      [0, 1, 2],
    ]);
    expect(reportText(r)).toMatch(/accuracy\s+0\.600\s+5/);
    expect(confusionCsv(r).split('\n')[3]).toBe('class 2,0,1,2');
    expect(reportSvg(r, 'example')).toContain('<svg');
  });

  it('expected calibration error over 15 equal bins of the top-1 confidence (torchmetrics L1)', () => {
    const scorer = new ClassificationScorer(['a', 'b', 'c']);
    scorer.add(0, [0.9, 0.05, 0.05]); // right at 0.9
    scorer.add(1, [0.9, 0.05, 0.05]); // wrong at 0.9
    scorer.add(0, [0.6, 0.3, 0.1]); // right at 0.6
    scorer.add(2, [0.4, 0.35, 0.25]); // wrong at 0.4
    const { ece, bins } = scorer.report().calibration;
    // |0.5 − 0.9|·2/4 + |1 − 0.6|·1/4 + |0 − 0.4|·1/4
    expect(ece).toBeCloseTo(0.4, 10);
    expect(bins).toHaveLength(15);
    expect(bins[13]).toMatchObject({ count: 2, accuracy: 0.5 });
    expect(bins.reduce((s, b) => s + b.count, 0)).toBe(4);
  });

  it('a class neither present nor predicted does not pull the macro average down', () => {
    const scorer = new ClassificationScorer(['a', 'b', 'c']);
    scorer.add(0, oneHot(0));
    scorer.add(1, oneHot(1));
    expect(scorer.report().macro.recall).toBe(1);
  });
});

describe('canonical expression labels', () => {
  it("maps face-api's and FER2013's orders and spellings onto one order; the seed's `anger` too", () => {
    const faceapi = mapModelLabels(['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised']);
    expect(faceapi.canonical).toBe(true);
    expect(faceapi.labels).toEqual(['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']);
    expect(reorder([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], faceapi)).toEqual([0.4, 0.6, 0.5, 0.2, 0.1, 0.3, 0.7]);
    expect(mapModelLabels(['anger', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']).labels[0]).toBe('angry');
    expect(canonicalExpression('Happiness')).toBe('happy');
  });

  it('a model with other classes keeps its own labels and order (known names spelled canonically)', () => {
    const eight = mapModelLabels([
      'neutral',
      'happiness',
      'surprise',
      'sadness',
      'anger',
      'disgust',
      'fear',
      'contempt',
    ]);
    expect(eight.canonical).toBe(false);
    expect(eight.labels).toEqual(['neutral', 'happy', 'surprise', 'sad', 'angry', 'disgust', 'fear', 'contempt']);
    expect(eight.order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('ground-truth names map like model names; an unknown one is refused with the model labels', () => {
    const labels = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'];
    expect(truthIndex('surprised', labels)).toBe(6);
    expect(truthIndex('fear', labels)).toBe(2);
    expect(() => truthIndex('contempt', labels)).toThrow(/"contempt" is none of the model's labels \(angry, disgust/);
  });
});

describe('image sets', () => {
  it('a labelled folder (LABEL/ sub-folders, nested, sorted), a CSV with quoting and a header, bare files', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fer-image-set-'));
    try {
      await mkdir(path.join(dir, 'data', 'sad', 'deeper'), { recursive: true });
      await mkdir(path.join(dir, 'data', 'happy'), { recursive: true });
      for (const f of ['data/sad/b.jpg', 'data/sad/deeper/a.png', 'data/happy/z.jpg', 'data/happy/notes.txt'])
        await writeFile(path.join(dir, f), '');
      await writeFile(path.join(dir, 'set.csv'), 'path,label\n"data/happy/z.jpg",happy\n"we, too.jpg",Surprised\n');
      const listed = [];
      for await (const e of listImages([path.join(dir, 'data'), path.join(dir, 'set.csv')], { labelled: true }))
        listed.push([path.relative(dir, e.path), e.label]);
      expect(listed).toEqual([
        ['data/happy/z.jpg', 'happy'],
        ['data/sad/b.jpg', 'sad'],
        ['data/sad/deeper/a.png', 'sad'],
        ['data/happy/z.jpg', 'happy'],
        ['we, too.jpg', 'Surprised'],
      ]);
      await expect(async () => {
        for await (const _ of listImages([path.join(dir, 'data', 'happy', 'z.jpg')], { labelled: true })) void _;
      }).rejects.toThrow(/a single image has no label/);
      expect(csvCells('"a ""b""",c')).toEqual(['a "b"', 'c']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
