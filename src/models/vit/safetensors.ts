// safetensors files (Hugging Face's weight format): an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}, then the raw
// little-endian tensor bytes. Read as float32 (F32, F16, BF16, F64 accepted); written as F32, F16 or BF16.

import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { WeightTensor } from './weights.ts';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

export interface SafetensorsEntry {
  readonly dtype: SafetensorsDtype;
  readonly dims: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsContents {
  readonly tensors: Map<string, WeightTensor & { readonly sourceDtype: SafetensorsDtype }>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Larger headers are not plausible; the limit stops a corrupt length from allocating gigabytes. */
const MAX_HEADER_BYTES = 100 << 20;

/** Parses and checks the header of a safetensors buffer; `source` names the file in errors. */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  source = 'safetensors',
): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string>; dataStart: number } {
  if (bytes.length < 8)
    throw new Error(
      `${source}: ${bytes.length} bytes is too short for a safetensors file (8-byte header length missing)`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    throw new Error(
      `${source}: header length ${headerLength} does not fit the file (${bytes.length} bytes); not a safetensors file?`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new Error(`${source}: header is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new Error(`${source}: header is not a JSON object`);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = value as Record<string, string>;
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, e.dtype)) {
      throw new Error(
        `${source}: tensor ${name} has dtype ${JSON.stringify(e.dtype)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`,
      );
    }
    const dtype = e.dtype as SafetensorsDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new Error(`${source}: tensor ${name} has an invalid shape ${JSON.stringify(e.shape)}`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new Error(`${source}: tensor ${name} has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const dims = e.shape as number[];
    const expected = dims.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (end < begin || end > dataLength)
      throw new Error(
        `${source}: tensor ${name} data_offsets [${begin}, ${end}] lie outside the ${dataLength} data bytes (truncated file?)`,
      );
    if (end - begin !== expected)
      throw new Error(
        `${source}: tensor ${name} has ${end - begin} bytes; ${dtype} shape [${dims.join(', ')}] needs ${expected}`,
      );
    entries.set(name, { dtype, dims, begin, end });
  }
  return { entries, metadata, dataStart };
}

/** Decodes every tensor of a safetensors buffer to float32. F32 tensors are views of `bytes` where alignment allows. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsContents {
  const { entries, metadata, dataStart } = parseSafetensorsHeader(bytes, source);
  const tensors = new Map<string, WeightTensor & { sourceDtype: SafetensorsDtype }>();
  for (const [name, entry] of entries) {
    const raw = bytes.subarray(dataStart + entry.begin, dataStart + entry.end);
    tensors.set(name, { dims: entry.dims, data: toFloat32(raw, entry.dtype), sourceDtype: entry.dtype });
  }
  return { tensors, metadata };
}

export async function readSafetensors(file: string): Promise<SafetensorsContents> {
  return decodeSafetensors(await readFile(file), file);
}

function toFloat32(raw: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  const n = raw.length / DTYPE_BYTES[dtype];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case 'F32': {
      if (raw.byteOffset % 4 === 0 && isLittleEndianHost) return new Float32Array(raw.buffer, raw.byteOffset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
  }
}

const isLittleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** float32 → IEEE half bits, rounding to nearest even (overflow → ±Infinity). */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // a carry into the exponent is correct rounding
  if ((half & 0x7c00) === 0x7c00) return sign | 0x7c00;
  return sign | half;
}

/** float32 → bfloat16 bits, rounding to nearest even. */
export function floatToBfloat16(value: number): number {
  const x = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export interface SafetensorsWriteTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
  /** Stored dtype (default F32). */
  readonly dtype?: Exclude<SafetensorsDtype, 'F64'>;
}

/** Writes a safetensors file, streaming tensor by tensor; returns its size in bytes. */
export async function writeSafetensors(
  file: string,
  tensors: Iterable<SafetensorsWriteTensor>,
  metadata: Record<string, string> = { format: 'pt' },
): Promise<number> {
  const list = [...tensors];
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of list) {
    const dtype = t.dtype ?? 'F32';
    const count = t.dims.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new RangeError(
        `safetensors: tensor ${t.name} has ${t.data.length} values for shape [${t.dims.join(', ')}]`,
      );
    if (Object.hasOwn(header, t.name)) throw new Error(`safetensors: tensor name ${t.name} appears twice`);
    const length = count * DTYPE_BYTES[dtype];
    header[t.name] = { dtype, shape: t.dims, data_offsets: [offset, offset + length] };
    offset += length;
  }
  // The header is padded with spaces so the data starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));

  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'w');
  try {
    await handle.writev([prefix, headerBytes]);
    for (const t of list) await handle.write(encodeTensor(t.data, t.dtype ?? 'F32'));
  } finally {
    await handle.close();
  }
  return 8 + headerBytes.length + offset;
}

function encodeTensor(data: Float32Array, dtype: Exclude<SafetensorsDtype, 'F64'>): Uint8Array {
  if (dtype === 'F32') {
    if (isLittleEndianHost) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const out = Buffer.alloc(data.length * 4);
    data.forEach((v, i) => out.writeFloatLE(v, i * 4));
    return out;
  }
  const out = Buffer.alloc(data.length * 2);
  const convert = dtype === 'F16' ? floatToHalf : floatToBfloat16;
  for (let i = 0; i < data.length; i++) out.writeUInt16LE(convert(data[i]!), i * 2);
  return out;
}
