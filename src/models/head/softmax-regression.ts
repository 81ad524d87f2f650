// Multinomial logistic regression (a softmax head) fitted on fixed features: what
// `models fit-head` puts on top of a frozen network, as scikit-learn's LogisticRegression does for
// a linear probe. Features are standardised for the fit (so one learning rate suits every
// dimension) and the standardisation is folded back into the weights, so the head applies to raw
// features: logits = x · W + b. Full-batch gradient descent with Adam and an L2 penalty; the data
// sizes this serves (thousands of faces × 256 features × 7 classes) fit in well under a second.

export interface SoftmaxHead {
  /** [dimensions × classes], row-major: weights[d * classes + k]. */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly dimensions: number;
  readonly classes: number;
}

export interface FitOptions {
  /** L2 penalty on the weights (of standardised features), per sample: towards `prior` where given, else towards 0. */
  readonly l2?: number;
  /**
   * A head to start from and stay near (L2-SP: the penalty pulls towards it instead of towards 0),
   * on the same raw features and classes; a class it does not know has zero weights there.
   */
  readonly prior?: Pick<SoftmaxHead, 'weights' | 'bias'>;
  readonly iterations?: number;
  readonly learningRate?: number;
}

/** Fits a head on `features` (each of length D) with class indexes `labels` (0..classes-1). */
export function fitSoftmaxHead(
  features: readonly Float32Array[],
  labels: readonly number[],
  classes: number,
  options: FitOptions = {},
): SoftmaxHead {
  const n = features.length;
  if (n === 0 || n !== labels.length)
    throw new RangeError(`need as many labels as samples (got ${n} samples, ${labels.length} labels)`);
  const d = features[0]!.length;
  const l2 = options.l2 ?? 1e-3;
  const iterations = options.iterations ?? 300;
  const rate = options.learningRate ?? 0.05;

  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const x of features) for (let j = 0; j < d; j++) mean[j]! += x[j]! / n;
  for (const x of features) for (let j = 0; j < d; j++) std[j]! += (x[j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]!) || 1;
  const z = features.map((x) => Float64Array.from(x, (v, j) => (v - mean[j]!) / std[j]!));

  // The prior in standardised terms: x · W0 + b0 = z · (σ W0) + (b0 + Σ μ W0).
  const prior = new Float64Array(d * classes);
  const b = new Float64Array(classes);
  if (options.prior) {
    for (let k = 0; k < classes; k++) b[k] = options.prior.bias[k]!;
    for (let j = 0; j < d; j++) {
      for (let k = 0; k < classes; k++) {
        prior[j * classes + k] = std[j]! * options.prior.weights[j * classes + k]!;
        b[k]! += mean[j]! * options.prior.weights[j * classes + k]!;
      }
    }
  }
  const w = Float64Array.from(prior);
  const adam = { m: new Float64Array(w.length + classes), v: new Float64Array(w.length + classes) };
  const grad = new Float64Array(w.length + classes);
  const p = new Float64Array(classes);
  for (let t = 1; t <= iterations; t++) {
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      softmaxInto(z[i]!, w, b, classes, p);
      p[labels[i]!]! -= 1;
      for (let j = 0; j < d; j++) {
        const zj = z[i]![j]!;
        if (zj === 0) continue;
        for (let k = 0; k < classes; k++) grad[j * classes + k]! += (zj * p[k]!) / n;
      }
      for (let k = 0; k < classes; k++) grad[w.length + k]! += p[k]! / n;
    }
    for (let q = 0; q < w.length; q++) grad[q]! += l2 * (w[q]! - prior[q]!);
    // Adam (β1 0.9, β2 0.999), its rate decaying linearly to 0 so the last steps settle instead of jittering.
    const decayed = rate * (1 - (t - 1) / iterations);
    for (let q = 0; q < grad.length; q++) {
      adam.m[q] = 0.9 * adam.m[q]! + 0.1 * grad[q]!;
      adam.v[q] = 0.999 * adam.v[q]! + 0.001 * grad[q]! ** 2;
      const step = (decayed * (adam.m[q]! / (1 - 0.9 ** t))) / (Math.sqrt(adam.v[q]! / (1 - 0.999 ** t)) + 1e-8);
      if (q < w.length) w[q]! -= step;
      else b[q - w.length]! -= step;
    }
  }
  // Fold the standardisation in: (x − μ)/σ · W + b = x · (W/σ) + (b − Σ μ W/σ).
  const weights = new Float32Array(d * classes);
  const bias = Float32Array.from(b);
  for (let j = 0; j < d; j++) {
    for (let k = 0; k < classes; k++) {
      const scaled = w[j * classes + k]! / std[j]!;
      weights[j * classes + k] = scaled;
      bias[k]! -= mean[j]! * scaled;
    }
  }
  return { weights, bias, dimensions: d, classes };
}

function softmaxInto(x: Float64Array, w: Float64Array, b: Float64Array, classes: number, out: Float64Array): void {
  for (let k = 0; k < classes; k++) out[k] = b[k]!;
  for (let j = 0; j < x.length; j++) {
    const xj = x[j]!;
    if (xj === 0) continue;
    for (let k = 0; k < classes; k++) out[k]! += xj * w[j * classes + k]!;
  }
  let max = -Infinity;
  for (let k = 0; k < classes; k++) max = Math.max(max, out[k]!);
  let sum = 0;
  for (let k = 0; k < classes; k++) sum += out[k] = Math.exp(out[k]! - max);
  for (let k = 0; k < classes; k++) out[k]! /= sum;
}

/** The head's class for raw features `x` (arg-max of x · W + b). */
export function predictHead(head: SoftmaxHead, x: ArrayLike<number>): number {
  let best = 0;
  let bestLogit = -Infinity;
  for (let k = 0; k < head.classes; k++) {
    let logit = head.bias[k]!;
    for (let j = 0; j < head.dimensions; j++) logit += x[j]! * head.weights[j * head.classes + k]!;
    if (logit > bestLogit) {
      bestLogit = logit;
      best = k;
    }
  }
  return best;
}
