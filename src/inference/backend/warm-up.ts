// One run of zeros on every session thread, at the batch shape the model will see, before any real
// work — on accelerators only. A CUDA session loads its kernels and picks its algorithms on the
// first run (seconds, well known); a CPU session plans at creation: measured here (int8 ViT-B/16,
// batch 8), its first run takes what later runs take, so warming it would only lengthen loading.

import type { InferenceHost } from '../types.ts';

export async function warmUp(host: InferenceHost, inputName: string, dims: readonly number[]): Promise<void> {
  if (host.executionProvider === 'cpu') return;
  const size = dims.reduce((a, b) => a * b, 1);
  await Promise.all(
    Array.from({ length: host.threads }, () =>
      host.run({ [inputName]: { data: new Float32Array(size), dims: [...dims] } }),
    ),
  );
}
