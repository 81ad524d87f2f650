// The seven basic expressions under one set of names, whatever a model calls them. face-api says
// fearful / disgusted / surprised in its own order, FER2013 models angry … neutral in another, the
// seed's config.json may spell index 0 `anger`: results of two models are only comparable (or
// poolable) when both answer in the same names and the same order. Every result, CSV, chart, API
// answer and metric uses CANONICAL_EXPRESSIONS; each model's own names stay in its model block.

/** The canonical names, in the order every probability vector of a canonical model follows. */
export const CANONICAL_EXPRESSIONS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'] as const;
export type CanonicalExpression = (typeof CANONICAL_EXPRESSIONS)[number];

// Spellings met in model configs and labelled data sets (FER2013, AffectNet, RAF-DB, CK+, face-api,
// py-feat, HSEmotion), lower-cased. Contempt has no canonical name: a model with it keeps its own labels.
const SYNONYMS: Readonly<Record<string, CanonicalExpression>> = {
  angry: 'angry',
  anger: 'angry',
  mad: 'angry',
  disgust: 'disgust',
  disgusted: 'disgust',
  disgusting: 'disgust',
  fear: 'fear',
  fearful: 'fear',
  scared: 'fear',
  afraid: 'fear',
  happy: 'happy',
  happiness: 'happy',
  joy: 'happy',
  joyful: 'happy',
  neutral: 'neutral',
  calm: 'neutral',
  sad: 'sad',
  sadness: 'sad',
  unhappy: 'sad',
  surprise: 'surprise',
  surprised: 'surprise',
};

/** The canonical name of a model's or a data set's label, or undefined when it has none. */
export function canonicalExpression(label: string): CanonicalExpression | undefined {
  return SYNONYMS[label.trim().toLowerCase()];
}

/**
 * How a model's outputs map onto the canonical labels. `order[k]` is the model's output index of
 * the k-th reported label. A model whose labels are exactly the seven expressions (in any order,
 * any spelling above) reports CANONICAL_EXPRESSIONS; any other model (more classes, other names)
 * keeps its own labels and order, each known name spelled canonically.
 */
export interface LabelMapping {
  readonly labels: readonly string[];
  readonly order: readonly number[];
  /** True when `labels` is CANONICAL_EXPRESSIONS. */
  readonly canonical: boolean;
}

export function mapModelLabels(modelLabels: readonly string[]): LabelMapping {
  const mapped = modelLabels.map(canonicalExpression);
  const distinct = new Set(mapped);
  if (
    modelLabels.length === CANONICAL_EXPRESSIONS.length &&
    distinct.size === CANONICAL_EXPRESSIONS.length &&
    !distinct.has(undefined)
  ) {
    const order = CANONICAL_EXPRESSIONS.map((name) => mapped.indexOf(name));
    return { labels: CANONICAL_EXPRESSIONS, order, canonical: true };
  }
  // Two model labels with one canonical name (e.g. `sad` and `sadness`) keep their own spellings.
  const counts = new Map<string | undefined, number>();
  for (const m of mapped) counts.set(m, (counts.get(m) ?? 0) + 1);
  const labels = modelLabels.map((label, i) =>
    mapped[i] !== undefined && counts.get(mapped[i]) === 1 ? mapped[i]! : label,
  );
  return { labels, order: modelLabels.map((_, i) => i), canonical: false };
}

/** `values` (in a model's output order) in the reported order of `mapping`. */
export function reorder<T>(values: ArrayLike<T>, mapping: LabelMapping): T[] {
  return mapping.order.map((i) => values[i]!);
}
