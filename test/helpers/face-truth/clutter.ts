// Cluttered scenes with no person in them (bench:detect, the detector tests): paintings and
// illustrations, landscape photographs, animals, coins with heads in relief, printed text and a
// poster, cloth and other patterns — from Debian packages, fetched by fetch-clutter.sh into
// FER_CLUTTER_DIR (default ~/.cache/fer-stream/clutter). Each picture gives three frames (640×480):
//   full    the picture filling the frame (centre crop)
//   zoom    a seeded part of it (half to two thirds of each side) filling the frame
//   framed  the picture hung on a wall — a framed painting or poster behind where a person would be —
//           over one of the fixture photos' face-free regions (the scenery scenes)

import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from '../../../src/core/types.ts';
import { SCENE_HEIGHT, SCENE_WIDTH, seededRandom, type Scene } from './scenes.ts';

export const CLUTTER_DIR = path.resolve(
  process.env.FER_CLUTTER_DIR ?? path.join(os.homedir(), '.cache', 'fer-stream', 'clutter'),
);
export const CLUTTER_FETCH = 'test/helpers/face-truth/fetch-clutter.sh';
const MANIFEST = 'MANIFEST.tsv';

export function clutterAvailable(dir = CLUTTER_DIR): boolean {
  return existsSync(path.join(dir, MANIFEST));
}

export interface ClutterPicture {
  readonly file: string;
  readonly category: string;
  readonly package: string;
  readonly licence: string;
}

export function clutterPictures(dir = CLUTTER_DIR): ClutterPicture[] {
  return readFileSync(path.join(dir, MANIFEST), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('file\t'))
    .map((line) => {
      const [file, category, pkg, , licence] = line.split('\t');
      return { file: file!, category: category!, package: pkg!, licence: licence! };
    });
}

const raw = (data: Uint8Array, width: number, height: number): RgbImage => ({ data, width, height });

/**
 * A GIMP pattern (.pat): big-endian header (size, version, width, height, bytes per pixel, "GPAT", name), then pixels.
 */
function readGimpPattern(bytes: Buffer): RgbImage {
  const headerSize = bytes.readUInt32BE(0);
  const width = bytes.readUInt32BE(8);
  const height = bytes.readUInt32BE(12);
  const channels = bytes.readUInt32BE(16);
  if (bytes.toString('latin1', 20, 24) !== 'GPAT') throw new Error('not a GIMP pattern');
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const p = headerSize + i * channels;
    const [r, g, b] = channels >= 3 ? [bytes[p]!, bytes[p + 1]!, bytes[p + 2]!] : [bytes[p]!, bytes[p]!, bytes[p]!];
    out.set([r, g, b], i * 3);
  }
  return raw(out, width, height);
}

/** The picture as RGB pixels: raw `NAME_WxH.rgb`, a GIMP pattern tiled over a frame, or any image sharp reads. */
async function loadPicture(file: string): Promise<RgbImage> {
  const size = /_(\d+)x(\d+)\.rgb$/.exec(file);
  if (size) return raw(new Uint8Array(readFileSync(file)), Number(size[1]), Number(size[2]));
  if (file.endsWith('.pat')) {
    const tile = readGimpPattern(readFileSync(file));
    const out = new Uint8Array(SCENE_WIDTH * SCENE_HEIGHT * 3);
    for (let y = 0; y < SCENE_HEIGHT; y++)
      for (let x = 0; x < SCENE_WIDTH; x++)
        out.set(
          tile.data.subarray(
            ((y % tile.height) * tile.width + (x % tile.width)) * 3,
            ((y % tile.height) * tile.width + (x % tile.width)) * 3 + 3,
          ),
          (y * SCENE_WIDTH + x) * 3,
        );
    return raw(out, SCENE_WIDTH, SCENE_HEIGHT);
  }
  const { data, info } = await sharp(file)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return raw(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height);
}

const toSharp = (image: RgbImage) =>
  sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } });

async function toRgb(pipeline: Sharp): Promise<RgbImage> {
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return raw(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height);
}

/**
 * Three frames per clutter picture (full, zoom, framed on one of `walls`), kind 'clutter': no face
 * in any of them. Seeded: every run makes the same frames.
 */
export async function clutterScenes(walls: readonly Scene[], dir = CLUTTER_DIR, seed = 1): Promise<Scene[]> {
  const random = seededRandom(seed);
  const scenes: Scene[] = [];
  for (const picture of clutterPictures(dir)) {
    const image = await loadPicture(path.join(dir, picture.file));
    const name = (variant: string) => `clutter:${picture.file}#${variant}`;
    scenes.push({
      name: name('full'),
      kind: 'clutter',
      image: await toRgb(toSharp(image).resize(SCENE_WIDTH, SCENE_HEIGHT, { fit: 'cover' })),
      faces: [],
    });

    const share = 0.5 + random() * 0.17;
    const width = Math.max(1, Math.round(image.width * share));
    const height = Math.max(1, Math.round(image.height * share));
    const left = Math.floor(random() * (image.width - width + 1));
    const top = Math.floor(random() * (image.height - height + 1));
    scenes.push({
      name: name('zoom'),
      kind: 'clutter',
      image: await toRgb(
        toSharp(image).extract({ left, top, width, height }).resize(SCENE_WIDTH, SCENE_HEIGHT, { fit: 'cover' }),
      ),
      faces: [],
    });

    // Hung on a wall: 40–70 % of the frame's width, its own aspect, a wooden or gilt frame.
    const wall = walls[Math.floor(random() * walls.length)]!;
    const pictureWidth = Math.round(SCENE_WIDTH * (0.4 + random() * 0.3));
    const pictureHeight = Math.min(SCENE_HEIGHT - 40, Math.round((pictureWidth * image.height) / image.width));
    const border = 6 + Math.floor(random() * 8);
    const colour = random() < 0.5 ? { r: 92, g: 60, b: 30 } : { r: 190, g: 150, b: 70 };
    const framed = await toSharp(image)
      .resize(pictureWidth, pictureHeight, { fit: 'cover' })
      .extend({ top: border, bottom: border, left: border, right: border, background: colour })
      .png()
      .toBuffer();
    const x = Math.floor(random() * (SCENE_WIDTH - pictureWidth - 2 * border + 1));
    const y = Math.floor(random() * Math.max(1, (SCENE_HEIGHT - pictureHeight - 2 * border) / 2));
    scenes.push({
      name: name('framed'),
      kind: 'clutter',
      image: await toRgb(toSharp(wall.image).composite([{ input: framed, left: x, top: y }])),
      faces: [],
    });
  }
  return scenes;
}
