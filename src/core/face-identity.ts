// Face identity descriptors (face-api's recognition net, 128 values) as faces carry them from the
// worker to the aggregation: scaled by 1000 and rounded to integers, so a stored face costs ≈ 550
// bytes of JSON instead of ≈ 2.4 KB; the rounding moves a distance by < 0.003 (√128 · 0.0005 / 2),
// far below the ≈ 0.1 that separates a match from a miss.

export const IDENTITY_SCALE = 1000;

/** A descriptor as stored on a face (integers, ×IDENTITY_SCALE). */
export function quantizeIdentity(descriptor: ArrayLike<number>): number[] {
  return Array.from(descriptor, (v) => Math.round(v * IDENTITY_SCALE));
}

/** Euclidean distance between two descriptors in the network's own units (both stored, ×IDENTITY_SCALE). */
export function identityDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum) / IDENTITY_SCALE;
}
