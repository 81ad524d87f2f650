// Generated interviews with known identities, for bench:persons and the persons tests: fixture faces
// (with context, test/helpers/face-truth) pasted over real scenery, one background per person as in
// an edited interview, cut together shot by shot. Each shot frames its person at its own size and
// place and drifts a little from frame to frame (a hand-held camera); a person seen in several
// photos (obama, biden) is shown from a different photo in each of their shots where there is one.
//   shot / reverse-shot   A B A B A B
//   three-person cuts     A B C B A C A
//   two-shot, then singles  A+B side by side, then A, B, A, B (two faces in one frame are two people)

import type { Box, RgbImage } from '../../src/core/types.ts';
import {
  pasteFaces,
  placedBoxes,
  seededRandom,
  SCENE_HEIGHT,
  SCENE_WIDTH,
  type FacePatch,
  type Placement,
  type Scene,
} from '../../test/helpers/face-truth/scenes.ts';

export const INTERVIEW_KINDS = ['shot / reverse-shot', 'three-person cuts', 'two-shot, then singles'] as const;
export type InterviewKind = (typeof INTERVIEW_KINDS)[number];

export interface InterviewFace {
  readonly person: string;
  readonly box: Box;
}

export interface InterviewFrame {
  readonly image: RgbImage;
  readonly faces: readonly InterviewFace[];
  /** Index of the shot the frame belongs to. */
  readonly shot: number;
}

export interface Interview {
  readonly kind: InterviewKind;
  readonly variant: number;
  readonly persons: readonly string[];
  readonly frames: readonly InterviewFrame[];
}

const SHOTS: Record<InterviewKind, readonly (readonly number[])[]> = {
  'shot / reverse-shot': [[0], [1], [0], [1], [0], [1]],
  'three-person cuts': [[0], [1], [2], [1], [0], [2], [0]],
  'two-shot, then singles': [[0, 1], [0], [1], [0], [1]],
};

/** Distinct people (by `person`), drawn without repeats. */
function cast(
  patches: readonly FacePatch[],
  count: number,
  random: () => number,
  pinned?: readonly string[],
): string[] {
  const people = [...new Set(patches.map((p) => p.person))];
  const chosen = [...(pinned ?? [])].slice(0, count);
  while (chosen.length < count) {
    const candidate = people[Math.floor(random() * people.length)]!;
    if (!chosen.includes(candidate)) chosen.push(candidate);
  }
  return chosen;
}

/**
 * `variants` interviews of each kind, `framesPerShot` sampled frames per shot (± a third, so cuts
 * do not fall on a rhythm). The first variant of each kind with two people casts obama and biden
 * (each from several photos): the hard case, one person across different photographs.
 */
export async function makeInterviews(
  patches: readonly FacePatch[],
  backgrounds: readonly Scene[],
  options: { variants: number; framesPerShot: number; seed?: number; kinds?: readonly InterviewKind[] },
): Promise<Interview[]> {
  const random = seededRandom(options.seed ?? 7);
  const interviews: Interview[] = [];
  for (const kind of options.kinds ?? INTERVIEW_KINDS) {
    const shots = SHOTS[kind];
    const count = Math.max(...shots.flat()) + 1;
    for (let variant = 0; variant < options.variants; variant++) {
      const persons = cast(patches, count, random, variant === 0 ? ['obama', 'biden'] : undefined);
      const photosOf = persons.map((person) => patches.filter((p) => p.person === person));
      // A background of their own for each person (as an edited interview cuts between two camera set-ups).
      const start = Math.floor(random() * backgrounds.length);
      const backgroundOf = persons.map((_, k) => backgrounds[(start + k * 3) % backgrounds.length]!);
      const shown = persons.map(() => 0);
      const frames: InterviewFrame[] = [];
      for (const [shot, inShot] of shots.entries()) {
        const length = Math.max(2, Math.round(options.framesPerShot * (2 / 3 + (2 / 3) * random())));
        // Each person in the shot: the next of their photos, a size, a place, a drift per frame.
        const actors = inShot.map((who, slot) => {
          const photos = photosOf[who]!;
          const patch = photos[shown[who]!++ % photos.length]!;
          const faceWidth = inShot.length > 1 ? 70 + random() * 40 : 90 + random() * 110;
          const size = placedBoxes({ patch, faceWidth, x: 0, y: 0 }).region;
          const laneWidth = SCENE_WIDTH / inShot.length;
          const x = slot * laneWidth + Math.max(0, (laneWidth - size.width) * (0.3 + 0.4 * random()));
          const y = Math.max(0, (SCENE_HEIGHT - size.height) * (0.2 + 0.5 * random()));
          const drift = { x: (random() - 0.5) * 6, y: (random() - 0.5) * 4 };
          return { who, patch, faceWidth, x, y, drift };
        });
        const background = backgroundOf[inShot[0]!]!;
        for (let i = 0; i < length; i++) {
          const placements: Placement[] = actors.map((a) => ({
            patch: a.patch,
            faceWidth: a.faceWidth,
            x: a.x + a.drift.x * i,
            y: a.y + a.drift.y * i,
          }));
          frames.push({
            image: await pasteFaces(background.image, placements),
            faces: actors.map((a, k) => ({ person: persons[a.who]!, box: placedBoxes(placements[k]!).face })),
            shot,
          });
        }
      }
      interviews.push({ kind, variant, persons, frames });
    }
  }
  return interviews;
}
