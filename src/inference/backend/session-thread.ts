// One onnxruntime session per worker thread. `session.run` blocks the thread it runs on for the
// whole inference, so it runs here and never on the caller's event loop.

import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName, TensorInfo } from '../types.ts';
import {
  transferables,
  type HostToThread,
  type ProviderFailure,
  type SessionThreadInit,
  type ThreadToHost,
  type WireTensor,
} from './protocol.ts';

if (parentPort === null) throw new Error('session-thread.ts must run in a worker thread (start session-thread.mjs)');
const port = parentPort;
const init = workerData as SessionThreadInit;

// onnxruntime prints a multi-line native error for every provider it cannot load; we report the
// failure ourselves (once per process, from the host), so keep its own logging to fatal errors.
ort.env.logLevel = 'fatal';

function post(message: ThreadToHost, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

// Errors that come from the model file, not the provider: trying another provider cannot help.
const MODEL_ERROR =
  /Load model|Protobuf parsing|File doesn't exist|ModelProto|model_path|Invalid model|INVALID_GRAPH|INVALID_PROTOBUF|NO_SUCHFILE/i;

function ortProviderOptions(provider: ExecutionProviderName): ort.InferenceSession.ExecutionProviderConfig[] {
  // CUDA sessions keep CPU as the place for nodes CUDA has no kernel for.
  return provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'];
}

async function createSession(): Promise<{
  session: ort.InferenceSession;
  provider: ExecutionProviderName;
  skipped: ProviderFailure[];
}> {
  const skipped: ProviderFailure[] = [];
  for (const provider of init.executionProviders) {
    try {
      const session = await ort.InferenceSession.create(init.modelPath, {
        executionProviders: ortProviderOptions(provider),
        intraOpNumThreads: init.intraOpThreads,
        // One session per thread; parallelism across requests comes from the host's threads.
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: init.graphOptimizationLevel,
        enableCpuMemArena: init.cpuMemoryArena,
        // Spinning threads wait for the next run at full CPU: with a detector and a classifier (and
        // preprocessing) on few cores they take it from the threads that have work (bench:pipeline).
        extra: {
          session: {
            intra_op: { allow_spinning: init.threadSpinning ? '1' : '0' },
            inter_op: { allow_spinning: init.threadSpinning ? '1' : '0' },
          },
        },
      });
      return { session, provider, skipped };
    } catch (error) {
      const reason = (error as Error).message;
      if (MODEL_ERROR.test(reason)) throw Object.assign(new Error(reason), { kind: 'model' as const });
      skipped.push({ provider, reason });
    }
  }
  const tried = skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ');
  throw Object.assign(new Error(`no configured execution provider could be used (${tried})`), {
    kind: 'provider' as const,
  });
}

function info(metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return metadata.map((m) => ({
    name: m.name,
    type: m.isTensor ? m.type : 'non-tensor',
    shape: m.isTensor ? [...m.shape] : [],
  }));
}

let session: ort.InferenceSession;
try {
  const created = await createSession();
  session = created.session;
  post({
    type: 'ready',
    provider: created.provider,
    skipped: created.skipped,
    inputs: info(session.inputMetadata),
    outputs: info(session.outputMetadata),
  });
} catch (error) {
  const err = error as Error & { kind?: 'model' | 'provider' };
  post({ type: 'init-error', message: err.message, kind: err.kind ?? 'model' });
  process.exit(0);
}

async function run(id: number, inputs: Readonly<Record<string, WireTensor>>): Promise<void> {
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(inputs)) feeds[name] = new ort.Tensor('float32', t.data, [...t.dims]);
    const results = await session.run(feeds);
    const outputs: Record<string, WireTensor> = {};
    for (const [name, tensor] of Object.entries(results)) {
      if (!(tensor.data instanceof Float32Array))
        throw new Error(`output "${name}" is ${tensor.type}, only float32 outputs are supported`);
      outputs[name] = { data: tensor.data, dims: [...tensor.dims] };
    }
    post({ type: 'result', id, outputs }, transferables(Object.values(outputs)));
  } catch (error) {
    post({ type: 'run-error', id, message: (error as Error).message });
  }
}

port.on('message', (message: HostToThread) => {
  if (message.type === 'run') {
    void run(message.id, message.inputs);
  } else if (message.type === 'close') {
    void session.release().finally(() => {
      post({ type: 'closed' });
      port.close();
    });
  } else if (message.type === 'exit') {
    // Handled on this thread's event loop, so never while onnxruntime is inside a native call.
    process.exit(message.code);
  }
});
