// Reads tfjs weight manifests (`*-weights_manifest.json`) and their binary shards, as shipped in
// @vladmandic/face-api's model/ folder, into plain float32 arrays. Quantised entries (uint8 /
// uint16 with scale and min, or float16) are dequantised exactly as tfjs does on load, so the
// converted ONNX models compute what face-api computes.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FerError } from '../../core/errors.ts';

export interface WeightTensor {
  readonly name: string;
  /** tfjs layout: conv filters [kh, kw, in, out], depthwise [kh, kw, in, 1], dense [in, out]. */
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** Loads every tensor of `<dir>/<modelName>-weights_manifest.json`, keyed by name (e.g. `conv1/bias`). */
export async function readWeights(dir: string, modelName: string): Promise<Map<string, WeightTensor>> {
  const manifestPath = path.join(dir, `${modelName}-weights_manifest.json`);
  let groups: ManifestGroup[];
  try {
    groups = JSON.parse(await readFile(manifestPath, 'utf8')) as ManifestGroup[];
  } catch (error) {
    throw new FerError('model_missing', `cannot read weight manifest ${manifestPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return readWeightGroups(dir, groups, manifestPath);
}

/**
 * Loads the tensors of tfjs weight groups (a weights manifest's entries, or a graph model's
 * `weightsManifest`) from their shards in `dir`; `source` names the manifest in errors.
 */
export async function readWeightGroups(
  dir: string,
  groups: unknown,
  manifestPath: string,
): Promise<Map<string, WeightTensor>> {
  if (!Array.isArray(groups))
    throw new FerError('model_invalid', `${manifestPath}: expected an array of weight groups`);
  const tensors = new Map<string, WeightTensor>();
  for (const group of groups as ManifestGroup[]) {
    const shards = await Promise.all(group.paths.map((p) => readFile(path.join(dir, p))));
    const buffer = Buffer.concat(shards);
    let offset = 0;
    for (const entry of group.weights) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const storedType = entry.quantization?.dtype ?? entry.dtype;
      const width = BYTES[storedType];
      if (width === undefined)
        throw new FerError('model_invalid', `${manifestPath}: ${entry.name} has unsupported dtype ${storedType}`);
      const byteLength = count * width;
      if (offset + byteLength > buffer.length) {
        throw new FerError(
          'model_invalid',
          `${manifestPath}: ${entry.name} needs bytes ${offset}..${offset + byteLength} but the shards hold ${buffer.length}`,
        );
      }
      // Copy into an aligned buffer: typed-array views need offsets that are multiples of their width.
      const bytes = new Uint8Array(byteLength);
      bytes.set(buffer.subarray(offset, offset + byteLength));
      tensors.set(entry.name, {
        name: entry.name,
        shape: entry.shape,
        data: decode(bytes.buffer, count, entry, manifestPath),
      });
      offset += byteLength;
    }
    if (offset !== buffer.length)
      throw new FerError(
        'model_invalid',
        `${manifestPath}: manifest describes ${offset} bytes, shards hold ${buffer.length}`,
      );
  }
  return tensors;
}

function decode(buffer: ArrayBuffer, count: number, entry: ManifestEntry, source: string): Float32Array {
  const q = entry.quantization;
  if (q === undefined) {
    if (entry.dtype === 'float32') return new Float32Array(buffer, 0, count);
    if (entry.dtype === 'int32') return Float32Array.from(new Int32Array(buffer, 0, count));
    throw new FerError('model_invalid', `${source}: ${entry.name} has unsupported dtype ${entry.dtype}`);
  }
  if (q.dtype === 'uint8' || q.dtype === 'uint16') {
    if (typeof q.scale !== 'number' || typeof q.min !== 'number') {
      throw new FerError('model_invalid', `${source}: ${entry.name} is ${q.dtype}-quantised without scale/min`);
    }
    const stored = q.dtype === 'uint8' ? new Uint8Array(buffer, 0, count) : new Uint16Array(buffer, 0, count);
    const { scale, min } = q;
    // Same expression as tfjs io.decodeWeights, evaluated in double then rounded to float32.
    return Float32Array.from(stored, (v) => v * scale + min);
  }
  if (q.dtype === 'float16') return Float32Array.from(new Uint16Array(buffer, 0, count), halfToFloat);
  throw new FerError('model_invalid', `${source}: ${entry.name} has unsupported quantisation ${q.dtype}`);
}

/** IEEE 754 half → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** The tensor `name`, checked against the shape the network definition expects. */
export function takeWeight(
  weights: ReadonlyMap<string, WeightTensor>,
  name: string,
  shape: readonly number[],
): WeightTensor {
  const tensor = weights.get(name);
  if (tensor === undefined) throw new FerError('model_invalid', `face-api weights lack tensor ${name}`);
  if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
    throw new FerError(
      'model_invalid',
      `face-api tensor ${name} has shape [${tensor.shape.join(',')}], expected [${shape.join(',')}]`,
    );
  }
  return tensor;
}
