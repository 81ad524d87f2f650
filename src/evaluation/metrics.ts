// Classification metrics over labelled images, as scikit-learn's classification_report and
// confusion_matrix and torchmetrics' calibration error define them:
//   precision_c = TP / (TP + FP), recall_c = TP / (TP + FN), F1 = 2PR / (P + R), 0 where undefined
//   (sklearn's zero_division=0); macro = unweighted mean over classes with support or predictions;
//   weighted = mean weighted by support; accuracy = trace / total.
//   ECE (L1, torchmetrics' default 15 equal-width bins): Σ_b |acc_b − conf_b| · n_b / n over the
//   top-1 confidence. Images are counted one at a time, so memory does not grow with the set.

export interface ClassReport {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Ground-truth images of this class. */
  readonly support: number;
}

export interface ReliabilityBin {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Mean top-1 confidence and share of correct answers in the bin; null when empty. */
  readonly confidence: number | null;
  readonly accuracy: number | null;
}

export interface ClassificationReport {
  readonly labels: readonly string[];
  /** Images scored (each with a prediction and a known label). */
  readonly total: number;
  readonly accuracy: number;
  readonly macro: { readonly precision: number; readonly recall: number; readonly f1: number };
  readonly weighted: { readonly precision: number; readonly recall: number; readonly f1: number };
  readonly perClass: readonly ClassReport[];
  /** confusion[t][p]: images of true label t predicted as p (sklearn's layout: rows are truth). */
  readonly confusion: readonly (readonly number[])[];
  readonly calibration: { readonly ece: number; readonly bins: readonly ReliabilityBin[] };
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export class ClassificationScorer {
  private readonly confusion: number[][];
  private readonly binCount: number[];
  private readonly binConfidence: number[];
  private readonly binCorrect: number[];
  private total = 0;

  constructor(
    readonly labels: readonly string[],
    private readonly bins = 15,
  ) {
    if (!Number.isInteger(bins) || bins < 1)
      throw new RangeError(`calibration bins must be a positive integer, got ${bins}`);
    this.confusion = labels.map(() => labels.map(() => 0));
    this.binCount = new Array<number>(bins).fill(0);
    this.binConfidence = new Array<number>(bins).fill(0);
    this.binCorrect = new Array<number>(bins).fill(0);
  }

  /** One image: its true class index and the model's probabilities over `labels`. */
  add(truth: number, probabilities: readonly number[]): void {
    if (!(truth >= 0 && truth < this.labels.length))
      throw new RangeError(`true class ${truth} is not one of the ${this.labels.length} labels`);
    if (probabilities.length !== this.labels.length)
      throw new RangeError(`${probabilities.length} probabilities for ${this.labels.length} labels`);
    let predicted = 0;
    for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[predicted]!) predicted = i;
    this.confusion[truth]![predicted]!++;
    const confidence = probabilities[predicted]!;
    // torchmetrics' binning: bin b holds confidences in (b/B, (b+1)/B]; 0 goes to the first.
    const bin = Math.min(this.bins - 1, Math.max(0, Math.ceil(confidence * this.bins) - 1));
    this.binCount[bin]!++;
    this.binConfidence[bin]! += confidence;
    if (predicted === truth) this.binCorrect[bin]!++;
    this.total++;
  }

  report(): ClassificationReport {
    const n = this.labels.length;
    const predictedTotals = this.labels.map((_, p) => this.confusion.reduce((sum, row) => sum + row[p]!, 0));
    const perClass = this.labels.map((label, c): ClassReport => {
      const tp = this.confusion[c]![c]!;
      const support = this.confusion[c]!.reduce((a, b) => a + b, 0);
      const precision = ratio(tp, predictedTotals[c]!);
      const recall = ratio(tp, support);
      return { label, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
    });
    // Classes neither present nor predicted say nothing about the model (sklearn averages over the labels given).
    const counted = perClass.filter((c, i) => c.support > 0 || predictedTotals[i]! > 0);
    const mean = (key: 'precision' | 'recall' | 'f1') =>
      ratio(
        counted.reduce((s, c) => s + c[key], 0),
        counted.length,
      );
    const weightedMean = (key: 'precision' | 'recall' | 'f1') =>
      ratio(
        perClass.reduce((s, c) => s + c[key] * c.support, 0),
        this.total,
      );
    let correct = 0;
    for (let c = 0; c < n; c++) correct += this.confusion[c]![c]!;
    const bins = this.binCount.map((count, b): ReliabilityBin => ({
      lower: b / this.bins,
      upper: (b + 1) / this.bins,
      count,
      confidence: count === 0 ? null : this.binConfidence[b]! / count,
      accuracy: count === 0 ? null : this.binCorrect[b]! / count,
    }));
    const ece = bins.reduce(
      (s, b) => s + (b.count === 0 ? 0 : Math.abs(b.accuracy! - b.confidence!) * (b.count / this.total)),
      0,
    );
    return {
      labels: this.labels,
      total: this.total,
      accuracy: ratio(correct, this.total),
      macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') },
      weighted: { precision: weightedMean('precision'), recall: weightedMean('recall'), f1: weightedMean('f1') },
      perClass,
      confusion: this.confusion.map((row) => [...row]),
      calibration: { ece, bins },
    };
  }
}
