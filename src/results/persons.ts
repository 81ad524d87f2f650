// Persons: tracks of one person joined across cuts and gaps. Tracks end at every cut and after
// long gaps (tracks.ts), so a shot / reverse-shot interview gives one track per shot; faces that
// carry an identity descriptor (face-api's recognition net, core/face-identity.ts) let the tracks
// of one person share a `personId`.
// Each track is described by the mean of its faces' descriptors (steadier than any one face). Track
// pairs are joined closest first (union-find) while the two groups' mean descriptors stay within
// `maxDistance`; two tracks seen in the same frame are never one person. Person ids count from 1
// in order of first appearance. Tracks without descriptors stay persons of their own; where no face
// has a descriptor, nothing is assigned (identities were not computed).

import { identityDistance } from '../core/face-identity.ts';
import type { FrameResult } from '../core/types.ts';

export interface PersonOptions {
  /** Largest distance between two groups' mean descriptors (face-api units; ≈ 0.6 = its own match bar) to join them. */
  readonly maxDistance: number;
}

interface Group {
  /** Sum of member faces' descriptors (null until one carries a descriptor) and how many. */
  sum: Float64Array | null;
  count: number;
  readonly frames: Set<number>;
  firstIndex: number;
  readonly tracks: number[];
}

/** Sets `personId` on every tracked face; frames come back in the same order. */
export function assignPersons(frames: readonly FrameResult[], options: PersonOptions): FrameResult[] {
  const groups = new Map<number, Group>();
  for (const frame of frames) {
    for (const face of frame.faces) {
      if (face.trackId === undefined) continue;
      let group = groups.get(face.trackId);
      if (group === undefined) {
        group = { sum: null, count: 0, frames: new Set(), firstIndex: frame.index, tracks: [face.trackId] };
        groups.set(face.trackId, group);
      }
      group.frames.add(frame.index);
      if (face.identity !== undefined && face.identity.length > 0) {
        group.sum ??= new Float64Array(face.identity.length);
        for (let i = 0; i < face.identity.length; i++) group.sum[i]! += face.identity[i]!;
        group.count += 1;
      }
    }
  }
  if (![...groups.values()].some((g) => g.sum !== null)) return [...frames];

  const trackIds = [...groups.keys()];
  const parent = new Map<number, number>(trackIds.map((id) => [id, id]));
  const find = (id: number): number => {
    let root = id;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(id, root);
    return root;
  };
  const mean = (g: Group) => Array.from(g.sum!, (v) => v / g.count);
  // Each track's mean once; tracks without a descriptor take part in no pair.
  const withMeans = trackIds
    .filter((id) => groups.get(id)!.sum !== null)
    .map((id) => ({ id, mean: mean(groups.get(id)!) }));
  const pairs: Array<{ a: number; b: number; distance: number }> = [];
  for (let i = 0; i < withMeans.length; i++) {
    for (let j = i + 1; j < withMeans.length; j++) {
      const distance = identityDistance(withMeans[i]!.mean, withMeans[j]!.mean);
      if (distance <= options.maxDistance) pairs.push({ a: withMeans[i]!.id, b: withMeans[j]!.id, distance });
    }
  }
  pairs.sort((x, y) => x.distance - y.distance);
  for (const { a, b } of pairs) {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) continue;
    const ga = groups.get(ra)!;
    const gb = groups.get(rb)!;
    if (overlaps(ga.frames, gb.frames) || identityDistance(mean(ga), mean(gb)) > options.maxDistance) continue;
    for (let i = 0; i < ga.sum!.length; i++) ga.sum![i]! += gb.sum![i]!;
    ga.count += gb.count;
    for (const f of gb.frames) ga.frames.add(f);
    ga.firstIndex = Math.min(ga.firstIndex, gb.firstIndex);
    ga.tracks.push(...gb.tracks);
    parent.set(rb, ra);
  }

  // Person ids in order of first appearance (then track id).
  const roots = [...new Set(trackIds.map(find))].sort(
    (x, y) => groups.get(x)!.firstIndex - groups.get(y)!.firstIndex || x - y,
  );
  const personOfRoot = new Map(roots.map((root, i) => [root, i + 1]));
  return frames.map((frame) => ({
    ...frame,
    faces: frame.faces.map((face) =>
      face.trackId === undefined ? face : { ...face, personId: personOfRoot.get(find(face.trackId))! },
    ),
  }));
}

function overlaps(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) return true;
  return false;
}
