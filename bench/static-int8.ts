// Static int8 (QDQ: QuantizeLinear/DequantizeLinear around each constant-weight MatMul, activation
// scales calibrated from min/max over calibration batches, int8 weights per output channel)
// against the dynamic int8 that `models quantize` writes, on the synthetic ViT-B/16: img/s of
// `session.run` at batch 8, static–dynamic–static in one run. Calibration uses random inputs:
// only the speed is measured here (which does not depend on the scales).
//
//   npm run bench:static-int8   (after bench:pipeline has built its models)

import os from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OnnxTypes } from '../src/models/onnx/proto.ts';
import * as ort from 'onnxruntime-node';
import { onnx } from '../src/models/onnx/proto.ts';
import { quantizeWeightInt8 } from '../src/models/onnx/quantize.ts';
import { ceiling } from './pipeline/measure.ts';

const dir = path.join(os.tmpdir(), 'fer-stream-bench-pipeline', 'models', 'vit-fer', 'onnx');
const tmp = (name: string) => path.join(os.tmpdir(), `fer-stream-bench-${name}.onnx`);
const bytes = readFileSync(`${dir}/model.onnx`);
const model = onnx.ModelProto.decode(bytes);
const g = model.graph!;
const inits = new Map(g.initializer!.map((t) => [t.name!, t]));
const targets = g.node!.filter((n) => n.opType === 'MatMul' && inits.get(n.input![1]!)?.dims?.length === 2);
console.error(`${targets.length} MatMuls with constant weights`);
// 1. Calibration: the MatMuls' activation inputs become graph outputs; min/max over 4 batches.
const cal = onnx.ModelProto.decode(bytes);
const acts = [...new Set(targets.map((n) => n.input![0]!))];
cal.graph!.output!.push(...acts.map((name) => ({ name, type: { tensorType: { elemType: 1 } } })));
writeFileSync(tmp('calibration'), onnx.ModelProto.encode(cal).finish());
const s = await ort.InferenceSession.create(tmp('calibration'));
const ranges = new Map<string, [number, number]>();
for (let b = 0; b < 4; b++) {
  const data = new Float32Array(8 * 3 * 224 * 224).map(() => Math.random() * 2 - 1);
  const out = await s.run({ pixel_values: new ort.Tensor('float32', data, [8, 3, 224, 224]) });
  for (const a of acts) {
    const v = out[a]!.data as Float32Array;
    let [lo, hi] = ranges.get(a) ?? [0, 0];
    for (let i = 0; i < v.length; i++) {
      if (v[i]! < lo) lo = v[i]!;
      if (v[i]! > hi) hi = v[i]!;
    }
    ranges.set(a, [lo, hi]);
  }
}
// 2. The QDQ model: each activation quantised once (uint8, per tensor), each weight int8 per column.
const q = onnx.ModelProto.decode(bytes);
const qg = q.graph!;
const qinits = new Map(qg.initializer!.map((t) => [t.name!, t]));
const nodes: OnnxTypes.INodeProto[] = [];
const added: OnnxTypes.ITensorProto[] = [];
const actDone = new Map<string, string>();
for (const n of qg.node!) {
  const w = n.opType === 'MatMul' ? qinits.get(n.input![1]!) : undefined;
  if (!w || w.dims?.length !== 2) {
    nodes.push(n);
    continue;
  }
  const [K, N] = w.dims.map(Number) as [number, number];
  const raw = new Uint8Array(w.rawData!.length);
  raw.set(w.rawData!);
  const { values, scales } = quantizeWeightInt8(new Float32Array(raw.buffer), K, N, true);
  const base = n.name || n.output![0]!;
  added.push(
    { name: `${base}.wq`, dims: [K, N], dataType: 3, rawData: new Uint8Array(values.buffer) },
    { name: `${base}.ws`, dims: [N], dataType: 1, rawData: new Uint8Array(scales.buffer) },
    { name: `${base}.wz`, dims: [N], dataType: 3, rawData: new Uint8Array(N) },
  );
  nodes.push({
    opType: 'DequantizeLinear',
    input: [`${base}.wq`, `${base}.ws`, `${base}.wz`],
    output: [`${base}.wdq`],
    attribute: [{ name: 'axis', type: 2, i: 1 }],
  });
  const x = n.input![0]!;
  let xdq = actDone.get(x);
  if (!xdq) {
    const [lo, hi] = ranges.get(x)!;
    const scale = (hi - lo) / 255 || 1;
    const zp = Math.max(0, Math.min(255, Math.round(-lo / scale)));
    added.push(
      { name: `${x}.s`, dims: [], dataType: 1, rawData: new Uint8Array(new Float32Array([scale]).buffer) },
      { name: `${x}.z`, dims: [], dataType: 2, rawData: new Uint8Array([zp]) },
    );
    nodes.push(
      { opType: 'QuantizeLinear', input: [x, `${x}.s`, `${x}.z`], output: [`${x}.q`] },
      { opType: 'DequantizeLinear', input: [`${x}.q`, `${x}.s`, `${x}.z`], output: [`${x}.dq`] },
    );
    xdq = `${x}.dq`;
    actDone.set(x, xdq);
  }
  nodes.push({ ...n, input: [xdq, `${base}.wdq`] });
}
qg.node = nodes;
qg.initializer = [...qg.initializer!.filter((t) => !targets.some((n) => n.input![1] === t.name)), ...added];
writeFileSync(tmp('qdq'), onnx.ModelProto.encode(q).finish());
const run = (file: string) => ceiling(file, { batch: 8, seconds: 5, intraOpThreads: 'auto' });
const [a, dynamic, b] = [
  await run(tmp('qdq')),
  await run(path.join(dir, 'model_quantized.onnx')),
  await run(tmp('qdq')),
];
console.log(
  `static int8 (QDQ) ${a.toFixed(2)} / ${b.toFixed(2)} img/s, dynamic int8 ${dynamic.toFixed(2)} img/s: static ÷ dynamic ${(a / dynamic).toFixed(2)}–${(b / dynamic).toFixed(2)}`,
);
