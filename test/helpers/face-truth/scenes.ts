// Frames with known faces, for measuring detectors (bench:detect) and for the no-face tests:
//   no-face frames: ffmpeg's generated sources (test patterns, bars, fractals, automata, noise,
//     gradients, text) and real scenery cut from the fixture photos where no face is;
//   clutter frames (clutter.ts): paintings, photographs, animals, posters, cloth — no face either;
//   composites: those frames with fixture faces pasted at known boxes and scales;
//   photos: the fixture photos themselves at the pipeline's frame size, with their boxes.
// Everything is generated (ffmpeg, sharp) from ../shared and the hand-checked boxes in
// fixture-faces.json; a seed fixes the composites.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import type { Box, RgbImage } from '../../../src/core/types.ts';

export const SCENE_WIDTH = 640;
export const SCENE_HEIGHT = 480;
export const FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

export interface Scene {
  /** Where the frame came from, e.g. "testsrc2#3" or "pexels_group.jpg". */
  readonly name: string;
  /**
   * no-face: generated pictures and scenery; clutter: paintings, photographs, animals, posters, cloth (clutter.ts), no
   * face either.
   */
  readonly kind: 'no-face' | 'clutter' | 'composite' | 'photo';
  readonly image: RgbImage;
  /** The faces in it; `truncated` ones (cut by the photo's edge) count neither as found nor as missed. */
  readonly faces: readonly TrueFace[];
}

export interface TrueFace {
  readonly box: Box;
  readonly truncated: boolean;
}

const size = `${SCENE_WIDTH}x${SCENE_HEIGHT}`;
const text = (words: string, fontsize: number, y: number, colour: string) =>
  `drawtext=fontfile=${FONT_FILE}:text='${words}':fontsize=${fontsize}:fontcolor=${colour}:x=(w-text_w)/2+20*sin(t):y=${y}`;

/** ffmpeg lavfi graphs of pictures with no face in them (each sampled at 2 frames/s). */
export const NO_FACE_SOURCES: ReadonlyArray<{ readonly name: string; readonly graph: string }> = [
  { name: 'testsrc', graph: `testsrc=size=${size}:rate=2` },
  { name: 'testsrc2', graph: `testsrc2=size=${size}:rate=2` },
  { name: 'smptebars', graph: `smptebars=size=${size}:rate=2` },
  { name: 'smptehdbars', graph: `smptehdbars=size=${size}:rate=2` },
  { name: 'pal75bars', graph: `pal75bars=size=${size}:rate=2` },
  { name: 'rgbtestsrc', graph: `rgbtestsrc=size=${size}:rate=2` },
  { name: 'yuvtestsrc', graph: `yuvtestsrc=size=${size}:rate=2` },
  { name: 'mandelbrot', graph: `mandelbrot=size=${size}:rate=2` },
  { name: 'life', graph: `life=size=${size}:rate=2:mold=10:ratio=0.3:life_color=#c0a080:death_color=#202040` },
  { name: 'cellauto', graph: `cellauto=size=${size}:rate=2` },
  { name: 'sierpinski', graph: `sierpinski=size=${size}:rate=2` },
  { name: 'gradients', graph: `gradients=size=${size}:rate=2:speed=0.1` },
  { name: 'grey-noise', graph: `nullsrc=size=${size}:rate=2,geq=lum=random(1)*255:cb=128:cr=128` },
  {
    name: 'colour-noise',
    graph: `nullsrc=size=${size}:rate=2,format=rgb24,geq=r=random(1)*255:g=random(2)*255:b=random(3)*255`,
  },
  {
    name: 'text-dark',
    graph: `color=c=#202830:size=${size}:rate=2,${text('QUARTERLY REVIEW %{n}', 44, 60, 'white')},${text('Revenue up 12 percent', 32, 200, '#f0c040')},${text('Questions and answers', 28, 360, '#a0d0ff')}`,
  },
  {
    name: 'text-light',
    graph: `color=c=#f4f0e8:size=${size}:rate=2,${text('Chapter %{n} - The Long Road', 40, 100, 'black')},${text('o o  O O  (o)(o)  8 8', 56, 230, '#603020')},${text('fer-stream 2026', 30, 380, '#305080')}`,
  },
];

export const FRAMES_PER_SOURCE = 8;

function rawFrames(ffmpeg: string, graph: string, count: number): RgbImage[] {
  const raw = execFileSync(
    ffmpeg,
    ['-v', 'error', '-f', 'lavfi', '-i', graph, '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { maxBuffer: 1 << 27 },
  );
  const bytes = SCENE_WIDTH * SCENE_HEIGHT * 3;
  return Array.from({ length: Math.floor(raw.length / bytes) }, (_, i) => ({
    data: new Uint8Array(raw.subarray(i * bytes, (i + 1) * bytes)),
    width: SCENE_WIDTH,
    height: SCENE_HEIGHT,
  }));
}

/** Every generated no-face frame (NO_FACE_SOURCES × 8); needs ffmpeg with drawtext and the DejaVu font. */
export function generatedNoFaceScenes(ffmpeg: string): Scene[] {
  if (!existsSync(FONT_FILE)) throw new Error(`font ${FONT_FILE} missing: install Debian's fonts-dejavu-core`);
  return NO_FACE_SOURCES.flatMap(({ name, graph }) =>
    rawFrames(ffmpeg, graph, FRAMES_PER_SOURCE).map((image, i) => ({
      name: `${name}#${i}`,
      kind: 'no-face' as const,
      image,
      faces: [],
    })),
  );
}

interface TruthFile {
  readonly photos: Record<
    string,
    ReadonlyArray<{ box: [number, number, number, number]; truncated?: boolean; person?: string }>
  >;
  readonly sceneryRegions: ReadonlyArray<[string, number, number, number, number]>;
}

const truthFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixture-faces.json');
export const FIXTURE_TRUTH: TruthFile = JSON.parse(readFileSync(truthFile, 'utf8')) as TruthFile;

const toBox = ([x, y, width, height]: readonly number[]): Box => ({ x: x!, y: y!, width: width!, height: height! });

async function decode(input: Buffer | string, pipeline: (s: Sharp) => Sharp = (s) => s): Promise<RgbImage> {
  const { data, info } = await pipeline(sharp(input).rotate().removeAlpha().toColourspace('srgb'))
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** Real scenery with no face: each region of fixture-faces.json scaled to cover a scene. */
export async function sceneryScenes(facesDir: string): Promise<Scene[]> {
  return Promise.all(
    FIXTURE_TRUTH.sceneryRegions.map(async ([file, x, y, width, height], i) => ({
      name: `scenery:${file}#${i}`,
      kind: 'no-face' as const,
      image: await decode(path.join(facesDir, file), (s) =>
        s.extract({ left: x, top: y, width, height }).resize(SCENE_WIDTH, SCENE_HEIGHT, { fit: 'cover' }),
      ),
      faces: [],
    })),
  );
}

/** The fixture photos scaled to fit the pipeline's frame size (as frames are), boxes scaled alike. */
export async function photoScenes(facesDir: string, maxSide = SCENE_WIDTH): Promise<Scene[]> {
  const scenes: Scene[] = [];
  for (const [file, faces] of Object.entries(FIXTURE_TRUTH.photos)) {
    const full = await sharp(path.join(facesDir, file)).rotate().metadata();
    const [w, h] = (full.orientation ?? 1) >= 5 ? [full.height!, full.width!] : [full.width!, full.height!];
    const scale = Math.min(1, maxSide / Math.max(w, h));
    const image = await decode(path.join(facesDir, file), (s) =>
      s.resize(Math.round(w * scale), Math.round(h * scale), { fit: 'fill' }),
    );
    const sx = image.width / w;
    const sy = image.height / h;
    scenes.push({
      name: file,
      kind: 'photo',
      image,
      faces: faces.map((f) => {
        const b = toBox(f.box);
        return {
          box: { x: b.x * sx, y: b.y * sy, width: b.width * sx, height: b.height * sy },
          truncated: f.truncated === true,
        };
      }),
    });
  }
  return scenes;
}

/** A face cut from a fixture photo with context around it (hair, neck), and where the face lies in the cut. */
export interface FacePatch {
  readonly image: RgbImage;
  readonly face: Box;
  /** Who it is: the same person appears in several photos (fixture-faces.json `person`). */
  readonly person: string;
}

const CONTEXT = 0.35;

/** Every whole (not truncated) fixture face, cut with context. */
export async function loadFacePatches(facesDir: string): Promise<FacePatch[]> {
  const patches: FacePatch[] = [];
  for (const [file, faces] of Object.entries(FIXTURE_TRUTH.photos)) {
    const photo = await sharp(path.join(facesDir, file))
      .rotate()
      .metadata()
      .then((m) =>
        (m.orientation ?? 1) >= 5 ? { width: m.height!, height: m.width! } : { width: m.width!, height: m.height! },
      );
    for (const [index, f] of faces.entries()) {
      if (f.truncated === true) continue;
      const b = toBox(f.box);
      const left = Math.max(0, Math.round(b.x - CONTEXT * b.width));
      const top = Math.max(0, Math.round(b.y - CONTEXT * b.height));
      const right = Math.min(photo.width, Math.round(b.x + (1 + CONTEXT) * b.width));
      const bottom = Math.min(photo.height, Math.round(b.y + (1 + CONTEXT) * b.height));
      const image = await decode(path.join(facesDir, file), (s) =>
        s.extract({ left, top, width: right - left, height: bottom - top }),
      );
      patches.push({
        image,
        face: { x: b.x - left, y: b.y - top, width: b.width, height: b.height },
        person: f.person ?? `${file}#${index}`,
      });
    }
  }
  return patches;
}

/** A patch pasted with its face `faceWidth` pixels wide, the patch's top-left corner at (x, y). */
export interface Placement {
  readonly patch: FacePatch;
  readonly x: number;
  readonly y: number;
  readonly faceWidth: number;
}

/** The patch's region in the frame for a placement, and its face's box. */
export function placedBoxes(p: Placement): { region: Box; face: Box } {
  const scale = p.faceWidth / p.patch.face.width;
  const width = Math.max(1, Math.round(p.patch.image.width * scale));
  const height = Math.max(1, Math.round(p.patch.image.height * scale));
  const sx = width / p.patch.image.width;
  const sy = height / p.patch.image.height;
  const region = { x: Math.round(p.x), y: Math.round(p.y), width, height };
  return {
    region,
    face: {
      x: region.x + p.patch.face.x * sx,
      y: region.y + p.patch.face.y * sy,
      width: p.patch.face.width * sx,
      height: p.patch.face.height * sy,
    },
  };
}

/** Pastes the placements in order (later ones cover earlier ones) and returns the frame. */
export async function pasteFaces(background: RgbImage, placements: readonly Placement[]): Promise<RgbImage> {
  const layers: OverlayOptions[] = [];
  for (const p of placements) {
    const { region } = placedBoxes(p);
    let resized = sharp(Buffer.from(p.patch.image.data), {
      raw: { width: p.patch.image.width, height: p.patch.image.height, channels: 3 },
    }).resize(region.width, region.height, { fit: 'fill' });
    // Parts outside the frame are cut off (a face entering or leaving).
    const left = Math.max(0, -region.x);
    const top = Math.max(0, -region.y);
    const width = Math.min(region.width - left, background.width - Math.max(0, region.x));
    const height = Math.min(region.height - top, background.height - Math.max(0, region.y));
    if (width <= 0 || height <= 0) continue;
    const buffer = await resized.png().toBuffer();
    resized = sharp(buffer).extract({ left, top, width, height });
    layers.push({ input: await resized.png().toBuffer(), left: Math.max(0, region.x), top: Math.max(0, region.y) });
  }
  // Compositing adds an alpha channel: removed so the frame is RGB like every other.
  const { data, info } = await sharp(Buffer.from(background.data), {
    raw: { width: background.width, height: background.height, channels: 3 },
  })
    .composite(layers)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`pasted frame has ${info.channels} channels`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** mulberry32: a small seeded generator, so every run pastes the same faces at the same places. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** Face widths pasted, log-uniform: from small (a face across a room at 640 px) to a close-up. */
export const PASTED_FACE_WIDTHS = { min: 20, max: 240 } as const;

/**
 * Each background with 1–3 fixture faces pasted (with their context) at random non-overlapping
 * places and log-uniform sizes; the true boxes are the scaled hand-checked boxes.
 */
export async function compositeScenes(backgrounds: readonly Scene[], facesDir: string, seed = 1): Promise<Scene[]> {
  const patches = await loadFacePatches(facesDir);
  const random = seededRandom(seed);
  const scenes: Scene[] = [];
  for (const background of backgrounds) {
    const wanted = 1 + Math.floor(random() * 3);
    const placed: Array<{ placement: Placement; region: Box; face: Box }> = [];
    for (let attempt = 0; placed.length < wanted && attempt < 50; attempt++) {
      const patch = patches[Math.floor(random() * patches.length)]!;
      const faceWidth = PASTED_FACE_WIDTHS.min * (PASTED_FACE_WIDTHS.max / PASTED_FACE_WIDTHS.min) ** random();
      const size = placedBoxes({ patch, x: 0, y: 0, faceWidth }).region;
      if (size.width > SCENE_WIDTH || size.height > SCENE_HEIGHT) continue;
      const placement = {
        patch,
        faceWidth,
        x: Math.floor(random() * (SCENE_WIDTH - size.width + 1)),
        y: Math.floor(random() * (SCENE_HEIGHT - size.height + 1)),
      };
      const boxes = placedBoxes(placement);
      if (placed.some((p) => overlaps(p.region, boxes.region))) continue;
      placed.push({ placement, ...boxes });
    }
    scenes.push({
      name: `${background.name}+${placed.length} faces`,
      kind: 'composite',
      image: await pasteFaces(
        background.image,
        placed.map((p) => p.placement),
      ),
      faces: placed.map((p) => ({ box: p.face, truncated: false })),
    });
  }
  return scenes;
}
