// Generated sequences with known identities for bench:tracks: fixture faces (with context) pasted
// over real scenery or generated backgrounds, moving frame by frame as sampled frames of a video
// would (one sampled frame = one step). Each kind is made in several variants (other people,
// backgrounds, sizes), all from a seed.

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

export interface TruthBox {
  /** The person (a fixture face's `person`, so one person in two photos is one identity). */
  readonly person: string;
  readonly box: Box;
  /** More than half the face is covered by a face pasted over it: neither required nor false when found. */
  readonly occluded: boolean;
}

export interface SequenceFrame {
  readonly image: RgbImage;
  readonly truth: readonly TruthBox[];
}

export interface Sequence {
  readonly kind: SequenceKind;
  readonly variant: number;
  readonly frames: readonly SequenceFrame[];
  /** Frame indexes where the true scene changes. */
  readonly cuts: readonly number[];
}

export const SEQUENCE_KINDS = [
  'one face moving',
  'two faces moving apart',
  'two faces crossing',
  'cut to another person, same place',
  'another person, same place, same background',
  'leaves and comes back',
] as const;
export type SequenceKind = (typeof SEQUENCE_KINDS)[number];

const FRAMES = 16;

interface Actor {
  readonly patch: FacePatch;
  readonly faceWidth: number;
  /** Patch top-left at frame i, or null when the person is not in the frame. */
  readonly at: (i: number) => { x: number; y: number } | null;
}

function patchSize(patch: FacePatch, faceWidth: number): { width: number; height: number } {
  return placedBoxes({ patch, faceWidth, x: 0, y: 0 }).region;
}

/** Two different people (never the same person from two photos). */
function twoPeople(patches: readonly FacePatch[], random: () => number): [FacePatch, FacePatch] {
  const a = patches[Math.floor(random() * patches.length)]!;
  const others = patches.filter((p) => p.person !== a.person);
  return [a, others[Math.floor(random() * others.length)]!];
}

function actorsFor(
  kind: SequenceKind,
  patches: readonly FacePatch[],
  random: () => number,
): { actors: Actor[]; backgroundAt: (i: number) => number; cuts: number[] } {
  const [a, b] = twoPeople(patches, random);
  const faceWidth = 60 + random() * 60;
  const same = () => 0;
  const sizeA = patchSize(a, faceWidth);
  const sizeB = patchSize(b, faceWidth);
  const lane = (size: { height: number }, y: number) => Math.max(0, Math.min(SCENE_HEIGHT - size.height, y));
  const centre = { x: (SCENE_WIDTH - sizeA.width) / 2, y: lane(sizeA, (SCENE_HEIGHT - sizeA.height) / 2) };
  // Speed: a fifth of the face width per sampled frame, typical of a walking person at 2 frames/s.
  const step = faceWidth * 0.2;
  switch (kind) {
    case 'one face moving':
      return {
        actors: [{ patch: a, faceWidth, at: (i) => ({ x: 20 + i * step, y: centre.y + 15 * Math.sin(i / 3) }) }],
        backgroundAt: same,
        cuts: [],
      };
    case 'two faces moving apart':
      return {
        actors: [
          {
            patch: a,
            faceWidth,
            at: (i) => ({ x: SCENE_WIDTH / 2 - sizeA.width - 10 - i * step, y: lane(sizeA, 20) }),
          },
          {
            patch: b,
            faceWidth,
            at: (i) => ({ x: SCENE_WIDTH / 2 + 10 + i * step, y: lane(sizeB, SCENE_HEIGHT - sizeB.height - 20) }),
          },
        ],
        backgroundAt: same,
        cuts: [],
      };
    case 'two faces crossing': {
      // Same lane (b a little lower), towards each other: they overlap for a few frames and b passes in front.
      const span = SCENE_WIDTH - sizeA.width;
      const speed = span / (FRAMES - 1);
      return {
        actors: [
          { patch: a, faceWidth, at: (i) => ({ x: i * speed, y: centre.y }) },
          { patch: b, faceWidth, at: (i) => ({ x: span - i * speed, y: lane(sizeB, centre.y + faceWidth * 0.3) }) },
        ],
        backgroundAt: same,
        cuts: [],
      };
    }
    case 'cut to another person, same place':
    case 'another person, same place, same background': {
      const half = FRAMES / 2;
      const newBackground = kind === 'cut to another person, same place';
      return {
        actors: [
          { patch: a, faceWidth, at: (i) => (i < half ? { x: centre.x + 3 * Math.sin(i), y: centre.y } : null) },
          { patch: b, faceWidth, at: (i) => (i >= half ? { x: centre.x + 3 * Math.sin(i), y: centre.y } : null) },
        ],
        backgroundAt: (i) => (newBackground && i >= half ? 1 : 0),
        // A true cut only where the picture changes as a whole; a face swapped on the same background is not one.
        cuts: newBackground ? [half] : [],
      };
    }
    case 'leaves and comes back':
      return {
        actors: [
          {
            patch: a,
            faceWidth,
            at: (i) => (i < 5 || i >= 11 ? { x: centre.x + (i < 5 ? 0 : 12), y: centre.y } : null),
          },
        ],
        backgroundAt: same,
        cuts: [],
      };
  }
}

/** `variants` sequences of each kind; backgrounds drawn from `backgrounds` (no-face scenes). */
export async function makeSequences(
  patches: readonly FacePatch[],
  backgrounds: readonly Scene[],
  variants: number,
  seed = 1,
): Promise<Sequence[]> {
  const random = seededRandom(seed);
  const sequences: Sequence[] = [];
  for (const kind of SEQUENCE_KINDS) {
    for (let variant = 0; variant < variants; variant++) {
      const { actors, backgroundAt, cuts } = actorsFor(kind, patches, random);
      const first = Math.floor(random() * backgrounds.length);
      const pool = [
        backgrounds[first]!,
        backgrounds[(first + 1 + Math.floor(random() * (backgrounds.length - 1))) % backgrounds.length]!,
      ];
      const frames: SequenceFrame[] = [];
      for (let i = 0; i < FRAMES; i++) {
        const present = actors.flatMap((actor) => {
          const at = actor.at(i);
          return at
            ? [
                {
                  actor,
                  placement: { patch: actor.patch, faceWidth: actor.faceWidth, x: at.x, y: at.y } satisfies Placement,
                },
              ]
            : [];
        });
        const image = await pasteFaces(
          pool[backgroundAt(i)]!.image,
          present.map((p) => p.placement),
        );
        const boxes = present.map((p) => placedBoxes(p.placement));
        frames.push({
          image,
          truth: present.map((p, k) => ({
            person: p.actor.patch.person,
            box: visible(boxes[k]!.face),
            occluded: boxes.slice(k + 1).some((over) => coveredShare(boxes[k]!.face, over.region) > 0.5),
          })),
        });
      }
      sequences.push({ kind, variant, frames, cuts });
    }
  }
  return sequences;
}

function coveredShare(face: Box, over: Box): number {
  const w = Math.min(face.x + face.width, over.x + over.width) - Math.max(face.x, over.x);
  const h = Math.min(face.y + face.height, over.y + over.height) - Math.max(face.y, over.y);
  return w > 0 && h > 0 ? (w * h) / (face.width * face.height) : 0;
}

/** The part of a face box inside the frame. */
function visible(box: Box): Box {
  const x = Math.max(0, box.x);
  const y = Math.max(0, box.y);
  return {
    x,
    y,
    width: Math.min(SCENE_WIDTH, box.x + box.width) - x,
    height: Math.min(SCENE_HEIGHT, box.y + box.height) - y,
  };
}
