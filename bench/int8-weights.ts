// 8-bit against 7-bit int8 weights (and uint8 weights, onnxruntime's U8U8 kernels) on this CPU:
// top-1 agreement with fp32 on the face crops `models quantize` measures on, and img/s of
// `session.run` at batch 8 on pre-made tensors, the variants alternating in each round. On AVX2
// without VNNI onnxruntime's uint8×int8 kernel saturates pairs of 8-bit products
// (src/inference/int8-arithmetic.ts), so 8-bit weights agree less there than on a VNNI CPU.
//
//   npm run bench:int8-weights [-- --rounds 2] [--seconds 8] [--json FILE]   (builds bench:pipeline's models if needed)

import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.ts';
import { cpuInt8 } from '../src/inference/int8-arithmetic.ts';
import { faceApiSamplePhotos } from '../src/models/faceapi/sample-photos.ts';
import { faceCrops, measureAgreement } from '../src/models/agreement.ts';
import { onnx } from '../src/models/onnx/proto.ts';
import { quantizeOnnxDynamic } from '../src/models/quantize-onnx.ts';
import { ceiling, range } from './pipeline/measure.ts';
import { BENCH_DIR, benchModels } from './pipeline/setup.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const models = await benchModels(process.env.FER_SHARED_DIR);
const dir = path.join(BENCH_DIR, 'int8-weights');
mkdirSync(path.join(dir, 'onnx'), { recursive: true });
for (const f of readdirSync(models.vitDir))
  if (f !== 'onnx' && f !== 'quantization.json' && !existsSync(path.join(dir, f)))
    symlinkSync(path.join(models.vitDir, f), path.join(dir, f));
const fp32 = readFileSync(path.join(models.vitDir, 'onnx', 'model.onnx'));
if (!existsSync(path.join(dir, 'onnx', 'model.onnx')))
  symlinkSync(path.join(models.vitDir, 'onnx', 'model.onnx'), path.join(dir, 'onnx', 'model.onnx'));

/** The 8-bit model with its weights moved to uint8 around zero point 128 (the same values). */
function uint8Weights(int8Model: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(int8Model);
  for (const t of model.graph!.initializer!) {
    if (t.dataType !== 3 || !/\.weight(_zero_point)?$/.test(t.name!)) continue;
    const raw = t.rawData!;
    t.rawData = Uint8Array.from(raw, (b) => ((b << 24) >> 24) + 128);
    t.dataType = 2;
  }
  return onnx.ModelProto.encode(model).finish();
}

const VARIANTS = [
  {
    file: 'int8_w8',
    what: 'int8, 8-bit weights (±127)',
    bytes: () => quantizeOnnxDynamic(fp32, { weightBits: 8 }).bytes,
  },
  {
    file: 'int8_w7',
    what: 'int8, 7-bit weights (±63), the default',
    bytes: () => quantizeOnnxDynamic(fp32, { weightBits: 7 }).bytes,
  },
  {
    file: 'int8_u8',
    what: 'int8, uint8 weights (U8U8 kernels)',
    bytes: () => uint8Weights(quantizeOnnxDynamic(fp32, { weightBits: 8 }).bytes),
  },
] as const;
for (const v of VARIANTS) writeFileSync(path.join(dir, 'onnx', `${v.file}.onnx`), v.bytes());

const here = cpuInt8();
console.error(`${here.cpu}: int8 arithmetic ${here.arithmetic} (${here.why})`);
const config = loadConfig({}, { modelsDir: models.modelsDir });
const photos = faceApiSamplePhotos();
const crops = await faceCrops(photos, {
  modelsDir: models.modelsDir,
  inference: config.inference,
  cropMargin: config.faces.cropMargin,
});
const agreement = new Map<string, { top1: number; maxProbabilityDifference: number }>();
for (const v of VARIANTS) {
  const a = await measureAgreement(dir, v.file, crops, photos, config.inference);
  agreement.set(v.file, a);
  console.error(
    `  ${v.what}: ${(a.top1 * 100).toFixed(1)} % top-1 of ${a.crops} crops, largest probability difference ${a.maxProbabilityDifference.toFixed(4)}`,
  );
}

const speed = new Map<string, number[]>();
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const file of ['model', ...VARIANTS.map((v) => v.file)]) {
    const ips = await ceiling(path.join(dir, 'onnx', `${file}.onnx`), {
      batch: 8,
      seconds: Number(values.seconds),
      intraOpThreads: 'auto',
    });
    speed.set(file, [...(speed.get(file) ?? []), ips]);
    console.error(`round ${round} ${file}: ${ips.toFixed(2)} img/s`);
  }
}

const fp32Speed = speed.get('model')!;
console.log(
  `\nbench:int8-weights — ${os.cpus().length} × ${here.cpu}, int8 arithmetic ${here.arithmetic}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}; synthetic ViT-B/16, ${crops.length} face crops, ${values.rounds} round(s)\n`,
);
console.log('| variant | top-1 agreement with fp32 | largest probability difference | img/s, batch 8 | ÷ fp32 |');
console.log('| --- | ---: | ---: | ---: | ---: |');
console.log(`| fp32 | — | — | ${range(fp32Speed)} | 1 |`);
for (const v of VARIANTS) {
  const a = agreement.get(v.file)!;
  const s = speed.get(v.file)!;
  console.log(
    `| ${v.what} | ${(a.top1 * 100).toFixed(1)} % | ${a.maxProbabilityDifference.toFixed(4)} | ${range(s)} | ${range(s.map((x, i) => x / fp32Speed[i]!))} |`,
  );
}
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      { cpu: here, crops: crops.length, agreement: Object.fromEntries(agreement), speed: Object.fromEntries(speed) },
      null,
      2,
    ),
  );
