// One process running the ceiling loop (measure.ts `ceiling`), for benches that need several at
// once: prints img/s on stdout.
//
//   node --import tsx bench/pipeline/ceiling-process.ts MODEL.onnx SECONDS INTRA_OP_THREADS

import { ceiling } from './measure.ts';

const [model, seconds, threads] = process.argv.slice(2);
if (!model) throw new Error('usage: ceiling-process.ts MODEL.onnx [SECONDS] [INTRA_OP_THREADS]');
console.log(await ceiling(model, { batch: 8, seconds: Number(seconds ?? 8), intraOpThreads: Number(threads ?? 1) }));
