// Preprocessing: our exact port of Pillow's resize (the shipped path) against sharp's own resize
// kernels, on the same decoded pixels: how close each is to the PIL reference (mean absolute
// difference of the normalised tensors; ours is the reference, bit for bit — see
// test/inference/preprocess/fidelity.test.ts) and how much CPU each costs, measured in the same run.
//
//   node --import tsx bench/preprocess.ts [--dir ../shared/fixtures/faces] [--rounds 5]
//
// Two inputs per photo: the encoded file (decode + resize + tensor) and raw RGB already decoded
// (resize + tensor only, as for ffmpeg frames and face crops).

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from '../src/core/types.ts';
import { decodeToRgb, preprocessedLength, preprocessInto } from '../src/inference/preprocess.ts';
import { channelTables, writeChw } from '../src/inference/preprocess/tensor.ts';
import type { PreprocessorConfig } from '../src/inference/types.ts';

const { values } = parseArgs({
  options: { dir: { type: 'string', default: '../shared/fixtures/faces' }, rounds: { type: 'string', default: '5' } },
});
const rounds = Number(values.rounds);

const config: PreprocessorConfig = {
  do_resize: true,
  size: { height: 224, width: 224 },
  resample: 2,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.5, 0.5, 0.5],
  image_std: [0.5, 0.5, 0.5],
};
const n = preprocessedLength(config);
const tables = channelTables(config);

type Method = {
  name: string;
  encoded: (bytes: Uint8Array, out: Float32Array) => Promise<void>;
  raw: (rgb: RgbImage, out: Float32Array) => Promise<void>;
};

async function sharpResize(pipeline: Sharp, kernel: 'linear' | 'cubic' | 'lanczos3', out: Float32Array): Promise<void> {
  const { data, info } = await pipeline
    .resize(224, 224, { fit: 'fill', kernel })
    .raw()
    .toBuffer({ resolveWithObject: true });
  writeChw({ data, width: info.width, height: info.height }, tables, 'rgb', out, 0);
}

const methods: Method[] = [
  {
    name: 'PIL port (shipped)',
    encoded: (b, o) => preprocessInto(b, config, o, 0),
    raw: (r, o) => preprocessInto(r, config, o, 0),
  },
  ...(['linear', 'cubic', 'lanczos3'] as const).map((kernel): Method => ({
    name: `sharp resize ${kernel}`,
    encoded: (b, o) => sharpResize(sharp(b, { ignoreIcc: true }).rotate(), kernel, o),
    raw: (r, o) => sharpResize(sharp(r.data, { raw: { width: r.width, height: r.height, channels: 3 } }), kernel, o),
  })),
];

const files = readdirSync(values.dir)
  .filter((f) => /\.(jpe?g|png)$/i.test(f))
  .sort()
  .map((f) => path.join(values.dir, f));
const encoded = files.map((f) => new Uint8Array(readFileSync(f)));
const decoded = await Promise.all(encoded.map((b) => decodeToRgb(b)));
const reference = encoded.map(() => new Float32Array(n));
await Promise.all(encoded.map((b, i) => preprocessInto(b, config, reference[i]!, 0)));

/** CPU milliseconds per image, whole process (sharp's libuv threads included): robust on a shared machine. */
async function cpuMs(run: (i: number) => Promise<void>): Promise<number> {
  for (let i = 0; i < files.length; i++) await run(i); // warm-up (JIT, sharp caches)
  const start = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (let i = 0; i < files.length; i++) await run(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / (rounds * files.length);
}

const baseline = { encoded: 0, raw: 0 };
console.log(`${files.length} photos from ${values.dir}, ${rounds} rounds, one image at a time\n`);
console.log('| method | MAD vs PIL (median / max) | encoded: CPU ms/img | ratio | raw RGB: CPU ms/img | ratio |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const m of methods) {
  const out = new Float32Array(n);
  const mads: number[] = [];
  for (const [i, bytes] of encoded.entries()) {
    await m.encoded(bytes, out);
    let sum = 0;
    for (let k = 0; k < n; k++) sum += Math.abs(out[k]! - reference[i]![k]!);
    mads.push(sum / n);
  }
  mads.sort((a, b) => a - b);
  const enc = await cpuMs((i) => m.encoded(encoded[i]!, out));
  const raw = await cpuMs((i) => m.raw(decoded[i]!, out));
  if (baseline.encoded === 0) Object.assign(baseline, { encoded: enc, raw });
  console.log(
    `| ${m.name} | ${mads[mads.length >> 1]!.toFixed(4)} / ${mads.at(-1)!.toFixed(4)} | ${enc.toFixed(1)} | ${(enc / baseline.encoded).toFixed(2)} | ${raw.toFixed(1)} | ${(raw / baseline.raw).toFixed(2)} |`,
  );
}
