// Tracking metrics as multi-object-tracking benchmarks define them (CLEAR MOT, Ristani et al.'s
// IDF1), over frames where each true face is matched to at most one reported face at IoU ≥ 0.5:
//   ID switches   a person's matched track id differs from the id it last had (also after an
//                 absence: coming back under a new id is a switch);
//   fragmentations a person tracked, then not (while in the frame), then tracked again;
//   merges        a track id given to more than one person (two people joined: each extra person
//                 counts once) — what a tracker without cuts or appearance does at a cut;
//   IDF1          2·IDTP / (true boxes + reported boxes), IDTP from the one-to-one assignment of
//                 people to track ids that maximises the frames they agree on.
// Occluded true faces (mostly covered by another) are "don't care".

import type { FaceResult } from '../../src/core/types.ts';
import { matchFaces } from '../../test/helpers/face-truth/match.ts';
import type { TruthBox } from './sequences.ts';

export interface TrackScore {
  readonly trueBoxes: number;
  readonly reportedBoxes: number;
  /** True boxes matched by a reported face (detection recall). */
  readonly matched: number;
  readonly idSwitches: number;
  readonly fragmentations: number;
  readonly merges: number;
  readonly idtp: number;
  /** Distinct track ids the people were given, per person. */
  readonly idsPerPerson: number;
  readonly people: number;
}

export const idf1 = (s: Pick<TrackScore, 'idtp' | 'trueBoxes' | 'reportedBoxes'>) =>
  s.trueBoxes + s.reportedBoxes === 0 ? 1 : (2 * s.idtp) / (s.trueBoxes + s.reportedBoxes);

/** Scores one sequence: per frame its true boxes and the tracked faces reported for it. */
export function scoreTracks(
  frames: ReadonlyArray<{ truth: readonly TruthBox[]; faces: readonly FaceResult[] }>,
): TrackScore {
  const agree = new Map<string, Map<number, number>>();
  const last = new Map<string, number>();
  const state = new Map<string, 'tracked' | 'lost'>();
  const ids = new Map<string, Set<number>>();
  let trueBoxes = 0;
  let reportedBoxes = 0;
  let matched = 0;
  let idSwitches = 0;
  let fragmentations = 0;
  for (const { truth, faces } of frames) {
    const match = matchFaces(
      faces.map((f) => ({ box: f.box, score: f.detectorScore ?? 1 })),
      truth.map((t) => ({ box: t.box, truncated: t.occluded })),
    );
    const byTruth = new Map(match.pairs.map(([d, t]) => [t, faces[d]!.trackId!]));
    // A face found on an occluded person counts on neither side; every other reported face does.
    reportedBoxes += faces.length - match.pairs.filter(([, t]) => truth[t]!.occluded).length;
    truth.forEach((t, i) => {
      if (t.occluded) return;
      trueBoxes++;
      const id = byTruth.get(i);
      if (id === undefined) {
        if (state.get(t.person) === 'tracked') state.set(t.person, 'lost');
        return;
      }
      matched++;
      if (state.get(t.person) === 'lost') fragmentations++;
      state.set(t.person, 'tracked');
      if (last.has(t.person) && last.get(t.person) !== id) idSwitches++;
      last.set(t.person, id);
      (ids.get(t.person) ?? ids.set(t.person, new Set()).get(t.person)!).add(id);
      const row = agree.get(t.person) ?? agree.set(t.person, new Map()).get(t.person)!;
      row.set(id, (row.get(id) ?? 0) + 1);
    });
    // Out of the frame is not "lost": a person who leaves is not a fragmentation, only a switch if the id changes.
    for (const person of state.keys()) if (!truth.some((t) => t.person === person)) state.delete(person);
  }
  const people = new Set(frames.flatMap((f) => f.truth.map((t) => t.person)));
  const peoplePerId = new Map<number, Set<string>>();
  for (const [person, row] of agree)
    for (const id of row.keys()) (peoplePerId.get(id) ?? peoplePerId.set(id, new Set()).get(id)!).add(person);
  const merges = [...peoplePerId.values()].reduce((n, p) => n + p.size - 1, 0);
  const idsGiven = [...people].reduce((n, p) => n + (ids.get(p)?.size ?? 0), 0);
  return {
    trueBoxes,
    reportedBoxes,
    matched,
    idSwitches,
    fragmentations,
    merges,
    idtp: bestAssignment(agree),
    idsPerPerson: people.size === 0 ? 0 : idsGiven / people.size,
    people: people.size,
  };
}

/**
 * Maximum total agreement over one-to-one assignments of people to ids (exhaustive: a handful of people per sequence).
 */
function bestAssignment(agree: ReadonlyMap<string, ReadonlyMap<number, number>>): number {
  const people = [...agree.keys()];
  const search = (k: number, used: ReadonlySet<number>): number => {
    if (k === people.length) return 0;
    let best = search(k + 1, used); // this person assigned to no id
    for (const [id, n] of agree.get(people[k]!)!) {
      if (used.has(id)) continue;
      best = Math.max(best, n + search(k + 1, new Set([...used, id])));
    }
    return best;
  };
  return search(0, new Set());
}

export function addScores(a: TrackScore, b: TrackScore): TrackScore {
  const people = a.people + b.people;
  return {
    trueBoxes: a.trueBoxes + b.trueBoxes,
    reportedBoxes: a.reportedBoxes + b.reportedBoxes,
    matched: a.matched + b.matched,
    idSwitches: a.idSwitches + b.idSwitches,
    fragmentations: a.fragmentations + b.fragmentations,
    merges: a.merges + b.merges,
    idtp: a.idtp + b.idtp,
    idsPerPerson: people === 0 ? 0 : (a.idsPerPerson * a.people + b.idsPerPerson * b.people) / people,
    people,
  };
}

export const NO_SCORE: TrackScore = {
  trueBoxes: 0,
  reportedBoxes: 0,
  matched: 0,
  idSwitches: 0,
  fragmentations: 0,
  merges: 0,
  idtp: 0,
  idsPerPerson: 0,
  people: 0,
};
