import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  abandonQueuedInference,
  createInferenceHost,
  type ThreadHostOptions,
  type ThreadSessionHost,
} from '../../../src/inference/backend/index.ts';
import { describeWithShared, sharedPath } from '../../helpers/shared.ts';

// YuNet (dynamic batch and size) is a small real model: input "input" [batch,3,height,width].
const yunet = () => sharedPath('models', 'yunet', 'yunet_s_dynamic.onnx');

function options(overrides: Partial<ThreadHostOptions> = {}): ThreadHostOptions {
  return {
    modelPath: yunet(),
    threads: 1,
    executionProviders: ['cpu'],
    intraOpThreads: 1,
    graphOptimizationLevel: 'all',
    ...overrides,
  };
}

function image(batch: number, size = 64): { data: Float32Array; dims: number[] } {
  const data = new Float32Array(batch * 3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = (i % 251) / 251;
  return { data, dims: [batch, 3, size, size] };
}

function capturingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

describeWithShared('ThreadSessionHost', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-host-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('runs a session on a worker thread and reports its metadata', async () => {
    const host = await createInferenceHost(options());
    try {
      expect(host.inputNames).toEqual(['input']);
      expect(host.inputs[0]).toEqual({ name: 'input', type: 'float32', shape: ['batch', 3, 'height', 'width'] });
      expect(host.outputNames).toContain('cls_8');
      const outputs = await host.run({ input: image(2) });
      // 64×64 at stride 8 gives 8×8 anchors per image.
      expect(outputs.cls_8!.dims).toEqual([2, 64, 1]);
      expect(outputs.cls_8!.data).toBeInstanceOf(Float32Array);
      expect(outputs.cls_8!.data.length).toBe(2 * 64);
    } finally {
      await host.close();
    }
  });

  it('falls back from cuda to cpu and logs the fallback once per process', async () => {
    const { logger, lines } = capturingLogger();
    const a = await createInferenceHost(options({ executionProviders: ['cuda', 'cpu'], logger }));
    const b = await createInferenceHost(options({ executionProviders: ['cuda', 'cpu'], threads: 2, logger }));
    try {
      expect(a.executionProvider).toBe('cpu');
      expect(b.executionProvider).toBe('cpu');
      const fallbacks = lines.filter((l) => l.msg.includes('falling back'));
      expect(fallbacks).toHaveLength(1);
      expect(fallbacks[0]!.msg).toBe('execution provider cuda unavailable, falling back to cpu');
      expect(fallbacks[0]!.level).toBe(30); // info: CPU is what a machine without a GPU is expected to use
      expect((await b.run({ input: image(1) })).cls_8!.dims).toEqual([1, 64, 1]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('fails clearly when no configured provider is available', async () => {
    await expect(createInferenceHost(options({ executionProviders: ['cuda'] }))).rejects.toThrow(
      /no usable execution provider .*cuda: /,
    );
  });

  it('fails clearly on a missing model file and on a file that is not ONNX', async () => {
    await expect(createInferenceHost(options({ modelPath: path.join(tmp, 'absent.onnx') }))).rejects.toThrow(
      /ONNX model file not found: .*absent\.onnx/,
    );
    const junk = path.join(tmp, 'junk.onnx');
    await writeFile(junk, 'this is not a protobuf model');
    await expect(createInferenceHost(options({ modelPath: junk }))).rejects.toThrow(
      /cannot load ONNX model .*junk\.onnx/,
    );
    await expect(createInferenceHost(options({ modelPath: tmp }))).rejects.toThrow(/not a file/);
  });

  it('transfers input buffers to the thread instead of copying them', async () => {
    const host = await createInferenceHost(options());
    try {
      const input = image(1);
      const running = host.run({ input });
      expect(input.data.byteLength).toBe(0); // detached: moved to the session thread
      await running;
    } finally {
      await host.close();
    }
  });

  it('spreads runs over several threads and accounts busy time per thread', async () => {
    const host = await createInferenceHost(options({ threads: 2 }));
    try {
      expect(host.threads).toBe(2);
      const results = await Promise.all(Array.from({ length: 6 }, () => host.run({ input: image(1, 128) })));
      expect(results.every((r) => r.cls_8!.dims[1] === 256)).toBe(true);
      const busy = host.busyMs();
      expect(busy).toHaveLength(2);
      expect(busy.every((ms) => ms > 0)).toBe(true);
    } finally {
      await host.close();
    }
  });

  it('rejects a run with a bad input and stays usable', async () => {
    const host = await createInferenceHost(options());
    try {
      await expect(host.run({ input: { data: new Float32Array(10), dims: [1, 3, 2, 2] } })).rejects.toThrow(
        /inference failed on .*yunet/,
      );
      await expect(host.run({ wrong_name: image(1) })).rejects.toThrow(/inference failed/);
      expect((await host.run({ input: image(1) })).cls_8!.dims).toEqual([1, 64, 1]);
    } finally {
      await host.close();
    }
  });

  it('rejects the in-flight run when its thread dies, replaces the thread, and does not hang callers', async () => {
    const host: ThreadSessionHost = await createInferenceHost(options());
    try {
      const inFlight = host.run({ input: image(4, 320) });
      const queued = host.run({ input: image(1) });
      await host.killThread(0);
      await expect(inFlight).rejects.toThrow(/inference thread 0 .* crashed during a run/);
      // The queued run goes to the replacement thread.
      expect((await queued).cls_8!.dims).toEqual([1, 64, 1]);
    } finally {
      await host.close();
    }
  });

  it('close() waits for runs in flight and refuses new ones', async () => {
    const host = await createInferenceHost(options({ threads: 2 }));
    const runs = Array.from({ length: 4 }, () => host.run({ input: image(1, 128) }));
    const closing = host.close();
    await expect(host.run({ input: image(1) })).rejects.toThrow(/closed/);
    const settled = await Promise.allSettled(runs);
    await closing;
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
  });

  it('abandonQueuedInference (an interrupted command, a forced stop): every open host fails its queued runs and refuses new ones; it resolves once the runs in progress have finished', async () => {
    const [a, b] = await Promise.all([createInferenceHost(options()), createInferenceHost(options())]);
    let finished = 0;
    const running = [a.run({ input: image(4, 320) }), b.run({ input: image(4, 320) })].map((run) =>
      run.finally(() => (finished += 1)),
    );
    const queued = Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).run({ input: image(4, 320) })),
    );
    // Resolves once the runs in progress have ended: then the process may exit safely.
    await abandonQueuedInference('the command was interrupted');
    expect(finished).toBe(2);
    const settled = await queued;
    expect(settled.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ran'))).toEqual(
      Array(6).fill('the command was interrupted'),
    );
    await expect(a.run({ input: image(1) })).rejects.toThrow('the command was interrupted');
    for (const run of running) expect((await run).cls_8!.dims[0]).toBe(4);
    await Promise.all([a.close(), b.close()]);
    // Closed hosts are forgotten: a later one is not abandoned.
    const c = await createInferenceHost(options());
    try {
      expect((await c.run({ input: image(1) })).cls_8!.dims).toEqual([1, 64, 1]);
    } finally {
      await c.close();
    }
  });
});
