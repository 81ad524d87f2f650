import zlib from 'node:zlib';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { preprocessInto, preprocessedLength } from '../../src/inference/preprocess.ts';
import { PreprocessPool } from '../../src/inference/preprocess-pool.ts';
import type { PreprocessorConfig } from '../../src/inference/types.ts';

const config: PreprocessorConfig = {
  do_resize: true,
  size: { height: 24, width: 24 },
  resample: 2,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.5, 0.5, 0.5],
  image_std: [0.5, 0.5, 0.5],
};
const plane = preprocessedLength(config);

async function gradient(width: number, height: number): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7) % 256;
  return new Uint8Array(
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

// A 20000×20000 PNG header (valid IHDR and CRC, no pixel data): rejected from the header alone.
function bombHeader(): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20000, 0);
  ihdr.writeUInt32BE(20000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const signature = Buffer.from('89504e470d0a1a0a', 'hex');
  return new Uint8Array(
    Buffer.concat([
      signature,
      chunk('IHDR', ihdr),
      chunk('IDAT', zlib.deflateSync(Buffer.alloc(64))),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

describe('PreprocessPool', () => {
  const pool = PreprocessPool.forConfig(config, { threads: 2, maxPixels: 10_000_000 });
  afterAll(() => pool.close());

  it('fills each slot exactly as preprocessInto does on the calling thread, moving the buffer both ways', async () => {
    const images = [await gradient(40, 30), await gradient(17, 50)];
    const out = new Float32Array(2 * plane);
    const filled = await pool.fill(images, out, plane);
    expect(out.byteLength).toBe(0); // moved to the thread
    expect(filled.out.length).toBe(2 * plane);
    expect(filled.errors).toEqual([undefined, undefined]);
    const reference = new Float32Array(2 * plane);
    await Promise.all(images.map((image, i) => preprocessInto(image, config, reference, i * plane)));
    expect(filled.out).toEqual(reference);
  });

  it('frames that are views into one chunk: the caller keeps its chunk, the results are the same', async () => {
    // As the worker hands over a chunk's frames: views into one buffer. Only the frames' bytes go to
    // the thread (copied, then moved); the chunk stays whole and usable for the caller.
    const width = 40;
    const height = 30;
    const frameBytes = width * height * 3;
    const chunk = new Uint8Array(frameBytes * 4);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 13) % 251;
    const frames = [1, 3].map((n) => ({ data: chunk.subarray(n * frameBytes, (n + 1) * frameBytes), width, height }));
    const before = chunk.slice();
    const filled = await pool.fill(frames, new Float32Array(2 * plane), plane);
    expect(chunk.byteLength).toBe(frameBytes * 4);
    expect(frames.map((f) => f.data.byteLength)).toEqual([frameBytes, frameBytes]);
    expect(chunk).toEqual(before);
    const reference = new Float32Array(2 * plane);
    await Promise.all(frames.map((frame, i) => preprocessInto(frame, config, reference, i * plane)));
    expect(filled.errors).toEqual([undefined, undefined]);
    expect(filled.out).toEqual(reference);
  });

  it('reports bad images per slot with their error codes, and fills the good ones', async () => {
    const good = await gradient(30, 30);
    const filled = await pool.fill(
      [new Uint8Array(0), good, new Uint8Array([9, 9, 9, 9]), bombHeader()],
      new Float32Array(4 * plane),
      plane,
    );
    expect(filled.errors.map((e) => (e as (Error & { code?: string }) | undefined)?.code)).toEqual([
      'image_empty',
      undefined,
      'image_unsupported',
      'image_too_large',
    ]);
    expect(filled.errors[3]!.message).toMatch(/20000x20000/);
    const reference = new Float32Array(plane);
    await preprocessInto(good, config, reference, 0);
    expect(filled.out.subarray(plane, 2 * plane)).toEqual(reference);
  });

  it('serves batches concurrently from several threads', async () => {
    const image = await gradient(64, 48);
    const batches = await Promise.all(
      Array.from({ length: 6 }, () => pool.fill([image, image], new Float32Array(2 * plane), plane)),
    );
    expect(batches.every((b) => b.errors.every((e) => e === undefined))).toBe(true);
    expect(batches[5]!.out).toEqual(batches[0]!.out);
  });
});

describe('PreprocessPool.close', () => {
  it('lets batches in hand finish, then refuses new ones', async () => {
    const pool = PreprocessPool.forConfig(config, { threads: 1, maxPixels: 10_000_000 });
    const images = [await gradient(600, 400), await gradient(400, 600)];
    const inFlight = [
      pool.fill(images, new Float32Array(2 * plane), plane),
      pool.fill(images, new Float32Array(2 * plane), plane),
    ];
    await pool.close();
    for (const batch of await Promise.all(inFlight)) {
      expect(batch.errors).toEqual([undefined, undefined]);
      expect(batch.out.length).toBe(2 * plane);
    }
    await expect(pool.fill(images, new Float32Array(2 * plane), plane)).rejects.toThrow(/preprocessing pool is closed/);
  });
});
