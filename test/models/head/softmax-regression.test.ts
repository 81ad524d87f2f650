import { describe, expect, it } from 'vitest';
import { fitSoftmaxHead, predictHead } from '../../../src/models/head/softmax-regression.ts';

/** Three classes, each a cloud around its own centre, on features with very different offsets and scales. */
function clouds(perClass: number, seed = 1): { x: Float32Array[]; y: number[] } {
  let state = seed;
  const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const centres = [
    [2, 0, 0, 0],
    [0, 2, 0, 0],
    [0, 0, 2, 0],
  ];
  const offset = [100, -50, 0.001, 7];
  const scale = [1000, 0.01, 1, 3];
  const x: Float32Array[] = [];
  const y: number[] = [];
  centres.forEach((c, k) => {
    for (let i = 0; i < perClass; i++) {
      x.push(Float32Array.from(c, (v, j) => offset[j]! + scale[j]! * (v + 0.5 * gauss())));
      y.push(k);
    }
  });
  return { x, y };
}

describe('softmax head', () => {
  it('learns separable classes on raw features whatever their offsets and scales (the standardisation is folded into the weights)', () => {
    const train = clouds(60, 1);
    const test = clouds(40, 2);
    const head = fitSoftmaxHead(train.x, train.y, 3);
    expect(head.weights).toHaveLength(4 * 3);
    const accuracy = test.x.filter((x, i) => predictHead(head, x) === test.y[i]).length / test.x.length;
    expect(accuracy).toBeGreaterThan(0.95);
  });

  it('with a strong pull towards a prior head, answers as the prior does; with a weak one, learns the data; without data it cannot fit', () => {
    const train = clouds(30, 3);
    // A prior that always prefers class 2 a little (its bias) and knows nothing else.
    const prior = { weights: new Float32Array(12), bias: Float32Array.from([0, 0, 1]) };
    const accuracy = (head: ReturnType<typeof fitSoftmaxHead>) =>
      train.x.filter((x, i) => predictHead(head, x) === train.y[i]).length / train.x.length;
    const pinned = fitSoftmaxHead(train.x, train.y, 3, { l2: 1e4, prior });
    const free = fitSoftmaxHead(train.x, train.y, 3, { l2: 1e-4, prior });
    expect(accuracy(free)).toBeGreaterThan(0.95);
    expect(accuracy(pinned)).toBeLessThan(accuracy(free));
    expect(() => fitSoftmaxHead([], [], 3)).toThrow(RangeError);
  });
});
