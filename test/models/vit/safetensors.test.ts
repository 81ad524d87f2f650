import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, readSafetensors, writeSafetensors } from '../../../src/models/vit/safetensors.ts';
import { floatToBfloat16, floatToHalf, halfToFloat } from '../../../src/models/vit/safetensors.ts';
import { fillNormal, syntheticVitWeights } from '../../../src/models/vit/synthetic.ts';
import { VIT_PRESETS } from '../../../src/models/vit/config.ts';
import { describeWithTools } from '../../helpers/system-tools.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'fer-safetensors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Values that exercise float16 rounding: normal, subnormal, overflow, ties (−0 is checked apart: JSON loses its sign).
 */
const probe = Float32Array.from([
  0,
  1,
  -1,
  0.1,
  1 / 3,
  65504,
  65519,
  65520,
  1e6,
  -1e6,
  6e-5,
  6.1e-5,
  1e-7,
  3e-8,
  2 ** -25,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  1e-3,
  12345.678,
  -0.00071,
]);

describe('safetensors', () => {
  // Both compare with numpy, the reference reader.
  describeWithTools('against numpy', ['python3 (PIL, numpy)'], () => {
    it('round-trips F32 tensors bit-exactly with a header numpy-style readers accept (8-byte aligned data)', async () => {
      const a = new Float32Array(13);
      fillNormal(a, 1, 5);
      const b = Float32Array.from([1, 2, 3, 4, 5, 6]);
      const file = path.join(tmp, 'f32.safetensors');
      const size = await writeSafetensors(file, [
        { name: 'a', dims: [13], data: a },
        { name: 'w.b', dims: [2, 3], data: b },
      ]);
      const bytes = readFileSync(file);
      expect(bytes.length).toBe(size);
      const headerLength = Number(bytes.readBigUInt64LE(0));
      expect((8 + headerLength) % 8).toBe(0);
      const { tensors, metadata } = await readSafetensors(file);
      expect(metadata).toEqual({ format: 'pt' });
      expect(tensors.get('a')!.data).toEqual(a);
      expect(tensors.get('w.b')).toMatchObject({ dims: [2, 3], sourceDtype: 'F32' });
      expect(Array.from(tensors.get('w.b')!.data)).toEqual([1, 2, 3, 4, 5, 6]);

      // An independent reader (Python, struct + json + numpy) sees the same tensors.
      const script = [
        'import json, struct, sys, numpy as np',
        'data = open(sys.argv[1], "rb").read()',
        'n = struct.unpack("<Q", data[:8])[0]; h = json.loads(data[8:8 + n]); base = 8 + n',
        'e = h["w.b"]; s, t = e["data_offsets"]',
        'print(json.dumps(np.frombuffer(data[base + s:base + t], "<f4").reshape(e["shape"]).tolist()))',
      ].join('\n');
      expect(JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' }))).toEqual([
        [1, 2, 3],
        [4, 5, 6],
      ]);
    });

    it('converts to and from F16 and BF16 exactly as numpy rounds (nearest even)', async () => {
      const script = [
        'import json, sys, numpy as np',
        'x = np.array(json.loads(sys.argv[1]), dtype=np.float32)',
        'h = x.astype(np.float16).view(np.uint16).tolist()',
        'u = x.view(np.uint32).astype(np.uint64)',
        'bf = (((u + 0x7fff + ((u >> 16) & 1)) >> 16) & 0xffff).tolist()',
        'print(json.dumps({"f16": h, "back": [repr(v) for v in x.astype(np.float16).astype(np.float64).tolist()], "bf16": bf}))',
      ].join('\n');
      const ref = JSON.parse(
        execFileSync('/usr/bin/python3', ['-W', 'ignore', '-c', script, JSON.stringify(Array.from(probe))], {
          encoding: 'utf8',
        }),
      ) as { f16: number[]; back: string[]; bf16: number[] };
      // Python writes infinities as inf/-inf, which JSON cannot carry: they come as repr strings.
      const back = ref.back.map((v) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v)));
      expect(Array.from(probe, floatToHalf)).toEqual(ref.f16);
      expect(ref.f16.map(halfToFloat)).toEqual(back);
      expect(Array.from(probe, floatToBfloat16)).toEqual(ref.bf16);
      expect([floatToHalf(-0), floatToBfloat16(-0), Object.is(halfToFloat(0x8000), -0)]).toEqual([
        0x8000,
        0x8000,
        true,
      ]);

      const file = path.join(tmp, 'half.safetensors');
      await writeSafetensors(file, [
        { name: 'h', dims: [probe.length], data: probe, dtype: 'F16' },
        { name: 'b', dims: [probe.length], data: probe, dtype: 'BF16' },
      ]);
      const { tensors } = await readSafetensors(file);
      expect(tensors.get('h')!.sourceDtype).toBe('F16');
      expect(Array.from(tensors.get('h')!.data)).toEqual(back.map((v) => Math.fround(v)));
      expect(Array.from(tensors.get('b')!.data)).toEqual(
        ref.bf16.map((bits) => new Float32Array(new Uint32Array([bits << 16]).buffer)[0]),
      );
    });
  });

  it('rejects damaged files with specific errors', async () => {
    const file = path.join(tmp, 'ok.safetensors');
    await writeSafetensors(file, [{ name: 'x', dims: [4], data: new Float32Array(4) }]);
    const good = readFileSync(file);
    expect(() => decodeSafetensors(good.subarray(0, 5), 'f')).toThrow(/too short/);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4), 'f')).toThrow(
      /tensor x data_offsets \[0, 16\] lie outside the 12 data bytes/,
    );
    const garbage = Buffer.from(good);
    garbage.writeBigUInt64LE(10n ** 12n, 0);
    expect(() => decodeSafetensors(garbage, 'f')).toThrow(/header length 1000000000000 does not fit/);
    const badJson = Buffer.from(good);
    badJson[8] = 0x7b + 1;
    expect(() => decodeSafetensors(badJson, 'f')).toThrow(/header is not valid JSON/);
    const header = (obj: unknown) => {
      const json = Buffer.from(JSON.stringify(obj));
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([prefix, json, Buffer.alloc(16)]);
    };
    expect(() => decodeSafetensors(header({ x: { dtype: 'I8', shape: [4], data_offsets: [0, 4] } }), 'f')).toThrow(
      /dtype "I8"; supported: F32, F16, BF16, F64/,
    );
    expect(() => decodeSafetensors(header({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }), 'f')).toThrow(
      /has 16 bytes; F32 shape \[3\] needs 12/,
    );
    writeFileSync(path.join(tmp, 'empty.safetensors'), '');
    await expect(readSafetensors(path.join(tmp, 'empty.safetensors'))).rejects.toThrow(/0 bytes is too short/);
  });
});

describe('synthetic ViT weights', () => {
  it('are deterministic per seed, normal with the requested std, with HF-initialised norms and biases', () => {
    const config = VIT_PRESETS.tiny;
    const a = syntheticVitWeights(config, { seed: 7 });
    const b = syntheticVitWeights(config, { seed: 7 });
    const c = syntheticVitWeights(config, { seed: 8 });
    const name = 'vit.encoder.layer.0.intermediate.dense.weight';
    expect(a.get(name)!.data).toEqual(b.get(name)!.data);
    expect(a.get(name)!.data).not.toEqual(c.get(name)!.data);
    const values = a.get(name)!.data;
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.001);
    expect(std).toBeGreaterThan(0.0195);
    expect(std).toBeLessThan(0.0205);
    expect(new Set(a.get('vit.layernorm.weight')!.data)).toEqual(new Set([1]));
    expect(new Set(a.get('vit.encoder.layer.1.layernorm_after.bias')!.data)).toEqual(new Set([0]));
    expect(new Set(a.get('classifier.bias')!.data)).toEqual(new Set([0]));
  });
});
