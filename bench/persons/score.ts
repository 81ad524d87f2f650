// Identity scores of persons found in one generated interview, as clustering is scored (pairwise
// precision and recall over tracks): each track is given the true person most of its faces match
// (IoU ≥ 0.5); faces that match no one (false detections) are left out.
//   precision  of the track pairs put under one personId, the share that are one person
//   recall     of the track pairs that are one person, the share put under one personId

import type { FaceResult, FrameResult } from '../../src/core/types.ts';
import { matchFaces } from '../../test/helpers/face-truth/match.ts';
import type { InterviewFrame } from './interviews.ts';

export interface IdentityScore {
  /** True persons with at least one matched track. */
  readonly present: number;
  /** Distinct personIds among the matched tracks. */
  readonly found: number;
  readonly tracks: number;
  /** Track pairs: same person and same personId / same personId only / same person only. */
  readonly truePairs: number;
  readonly falsePairs: number;
  readonly missedPairs: number;
}

export const NO_IDENTITY_SCORE: IdentityScore = {
  present: 0,
  found: 0,
  tracks: 0,
  truePairs: 0,
  falsePairs: 0,
  missedPairs: 0,
};

/** Every tracked face that matches a true face (IoU ≥ 0.5), with the person it shows, grouped by track. */
function matchedTracks(
  truth: readonly InterviewFrame[],
  frames: readonly FrameResult[],
): Map<number, Array<{ face: FaceResult; person: string }>> {
  const tracks = new Map<number, Array<{ face: FaceResult; person: string }>>();
  frames.forEach((frame, i) => {
    const faces = frame.faces.filter((f) => f.trackId !== undefined);
    const match = matchFaces(
      faces.map((f) => ({ box: f.box, score: f.detectorScore ?? 1 })),
      truth[i]!.faces.map((f) => ({ box: f.box, truncated: false })),
    );
    for (const [d, t] of match.pairs) {
      const face = faces[d]!;
      const list = tracks.get(face.trackId!) ?? [];
      list.push({ face, person: truth[i]!.faces[t]!.person });
      tracks.set(face.trackId!, list);
    }
  });
  return tracks;
}

/** The person most of a track's matched faces show. */
function majority(matched: ReadonlyArray<{ person: string }>): string {
  const tally = new Map<string, number>();
  for (const { person } of matched) tally.set(person, (tally.get(person) ?? 0) + 1);
  return [...tally.entries()].sort((a, b) => b[1] - a[1])[0]![0];
}

export function scoreIdentities(truth: readonly InterviewFrame[], frames: readonly FrameResult[]): IdentityScore {
  const tracks = [...matchedTracks(truth, frames).entries()].map(([trackId, matched]) => ({
    person: majority(matched),
    // A track without a personId (identities off) is its own person.
    personId: matched.at(-1)!.face.personId ?? `track ${trackId}`,
  }));
  let truePairs = 0;
  let falsePairs = 0;
  let missedPairs = 0;
  for (let i = 0; i < tracks.length; i++) {
    for (let j = i + 1; j < tracks.length; j++) {
      const samePerson = tracks[i]!.person === tracks[j]!.person;
      const sameId = tracks[i]!.personId === tracks[j]!.personId;
      if (samePerson && sameId) truePairs++;
      else if (sameId) falsePairs++;
      else if (samePerson) missedPairs++;
    }
  }
  return {
    present: new Set(tracks.map((t) => t.person)).size,
    found: new Set(tracks.map((t) => t.personId)).size,
    tracks: tracks.length,
    truePairs,
    falsePairs,
    missedPairs,
  };
}

export function addIdentityScores(a: IdentityScore, b: IdentityScore): IdentityScore {
  return {
    present: a.present + b.present,
    found: a.found + b.found,
    tracks: a.tracks + b.tracks,
    truePairs: a.truePairs + b.truePairs,
    falsePairs: a.falsePairs + b.falsePairs,
    missedPairs: a.missedPairs + b.missedPairs,
  };
}

/** Pairwise precision and recall (1 where there is nothing to get wrong). */
export function pairwise(score: IdentityScore): { precision: number; recall: number } {
  const claimed = score.truePairs + score.falsePairs;
  const real = score.truePairs + score.missedPairs;
  return { precision: claimed === 0 ? 1 : score.truePairs / claimed, recall: real === 0 ? 1 : score.truePairs / real };
}

/** Each matched track's true person (majority of its faces) and the mean of its faces' descriptors. */
export function trackMeans(
  interview: { readonly frames: readonly InterviewFrame[] },
  frames: readonly FrameResult[],
): Array<{ person: string; mean: number[] }> {
  return [...matchedTracks(interview.frames, frames).values()].flatMap((matched) => {
    const described = matched.flatMap(({ face }) => (face.identity ? [face.identity] : []));
    if (described.length === 0) return [];
    const mean = described[0]!.map(
      (_, k) => described.reduce((sum, identity) => sum + identity[k]!, 0) / described.length,
    );
    return [{ person: majority(matched), mean }];
  });
}
