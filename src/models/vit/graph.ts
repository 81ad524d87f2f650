// The ONNX graph of Hugging Face's ViTForImageClassification, in standard opset-17 operators:
//
//   pixel_values [N,C,H,W] → Conv(patch, stride patch) → [N,P,D] (+ position embeddings)
//   → CLS token prepended → L × pre-LN encoder layer → CLS token → LayerNorm → Linear → logits [N,labels]
//
// Encoder layer (HF ViTLayer):  x += Attn(LN_before(x));  x += W2·gelu(W1·LN_after(x) + b1) + b2
// Choices for onnxruntime speed, all exact or within float32 rounding of HF:
// - query/key/value are one MatMul with a [D, 3D] weight (then Split), and 1/sqrt(head size) is
//   folded into the query weight and bias (exact when the head size is a power of 4, e.g. 64);
// - the CLS token and its position embedding are added ahead of time (one constant row), and the
//   token sequence is built with Pad + Add so that all shapes stay static for onnxruntime's fusions;
// - the final LayerNorm runs on the CLS token only (LayerNorm is per token, HF classifies token 0);
// - GELU is written Div(√2)→Erf→Add(1)→Mul(x)→Mul(0.5), the form onnxruntime fuses into Gelu/BiasGelu,
//   and LayerNormalization + residual Add can become SkipLayerNormalization.

import { OnnxGraphBuilder, attr } from '../onnx/index.ts';
import { addDynamicQuantizedMatMul, DEFAULT_WEIGHT_BITS, type WeightBits } from '../onnx/quantize.ts';
import { sequenceLength, validateVitConfig, type VitConfig } from './config.ts';
import { checkVitWeights, type VitWeights } from './weights.ts';

export const VIT_INPUT_NAME = 'pixel_values';
export const VIT_OUTPUT_NAME = 'logits';
const BATCH_DIM = 'batch_size';

export interface VitGraphOptions {
  readonly opset?: 17 | 18;
  /**
   * Dynamic int8 quantisation of the encoder's Linear layers (q/k/v, attention output, MLP):
   * int8 weights (per output channel or per tensor; 7 bits unless `weightBits` says 8, see
   * onnx/quantize.ts), uint8 activations quantised per call. The patch convolution, attention
   * products, norms and the classifier stay float32.
   */
  readonly quantization?: { readonly perChannel: boolean; readonly weightBits?: WeightBits };
}

export function buildVitGraph(config: VitConfig, weights: VitWeights, options: VitGraphOptions = {}): OnnxGraphBuilder {
  validateVitConfig(config);
  checkVitWeights(config, weights);
  const D = config.hiddenSize;
  const H = config.numAttentionHeads;
  const headSize = D / H;
  const S = sequenceLength(config);
  const P = S - 1;
  const labels = config.labels.length;
  const w = (name: string) => weights.get(name)!.data;

  const g = new OnnxGraphBuilder({
    graphName: 'vit_image_classification',
    opset: options.opset ?? 17,
    docString: `${options.quantization ? `dynamic int8 (${options.quantization.perChannel ? 'per-channel' : 'per-tensor'}, ${options.quantization.weightBits ?? DEFAULT_WEIGHT_BITS}-bit weights) ` : ''}ViTForImageClassification: hidden ${D}, ${config.numHiddenLayers} layers, ${H} heads, MLP ${config.intermediateSize}, patch ${config.patchSize}, image ${config.imageSize}, ${labels} labels`,
  });
  const pixels = g.addInput(VIT_INPUT_NAME, 'float32', [
    BATCH_DIM,
    config.numChannels,
    config.imageSize,
    config.imageSize,
  ]);
  g.addOutput(VIT_OUTPUT_NAME, 'float32', [BATCH_DIM, labels]);

  // Shared constants.
  const eps = attr.float(config.layerNormEps);
  const lastAxis = attr.int(-1);
  const toTokens = g.int64s([0, D, P], 'shape_patches');
  const toHeads = g.int64s([0, 0, H, headSize], 'shape_heads');
  const fromHeads = g.int64s([0, 0, D], 'shape_hidden');
  const qkvSplit = g.int64s([D, D, D], 'split_qkv');
  const sqrt2 = g.float32(Math.SQRT2, [], 'sqrt2');
  const one = g.float32(1, [], 'one');
  const half = g.float32(0.5, [], 'half');

  // Patch embedding: Conv [N,D,g,g] → [N,D,P] → [N,P,D]. The CLS token is prepended by padding a
  // zero row in front and adding one constant [S,D] table: row 0 = CLS token + its position
  // embedding, rows 1.. = the patches' position embeddings. Exact (0 + c = c), and unlike
  // Shape/Expand/Concat it keeps every shape statically known, which onnxruntime's fusions need.
  const p = config.patchSize;
  const conv = g.op(
    'Conv',
    [
      pixels,
      g.addInitializer('patch_embeddings.weight', {
        values: w('vit.embeddings.patch_embeddings.projection.weight'),
        dims: [D, config.numChannels, p, p],
      }),
      g.addInitializer('patch_embeddings.bias', {
        values: w('vit.embeddings.patch_embeddings.projection.bias'),
        dims: [D],
      }),
    ],
    { kernel_shape: attr.ints([p, p]), strides: attr.ints([p, p]) },
  );
  const patches = g.op('Transpose', [g.op('Reshape', [conv, toTokens])], { perm: attr.ints([0, 2, 1]) });
  const withClsSlot = g.op('Pad', [patches, g.int64s([0, 1, 0, 0, 0, 0], 'pads_cls')]);
  const position = w('vit.embeddings.position_embeddings');
  const cls = w('vit.embeddings.cls_token');
  const embeddingTable = position.slice();
  for (let i = 0; i < D; i++) embeddingTable[i] = cls[i]! + position[i]!;
  let x = g.op('Add', [
    withClsSlot,
    g.addInitializer('cls_and_position_embeddings', { values: embeddingTable, dims: [1, S, D] }),
  ]);

  for (let layer = 0; layer < config.numHiddenLayers; layer++) {
    const hf = `vit.encoder.layer.${layer}`;
    const name = `layer${layer}`;
    /** y = x·Wᵀ + b for a PyTorch Linear weight [out, in] (float, or dynamically quantised). */
    const linear = (
      input: string,
      weight: Float32Array,
      bias: Float32Array | null,
      out: number,
      inputSize: number,
      tag: string,
    ) => {
      const kn = transpose(weight, out, inputSize);
      if (options.quantization) {
        return addDynamicQuantizedMatMul(g, input, kn, inputSize, out, {
          name: `${name}.${tag}`,
          perChannel: options.quantization.perChannel,
          ...(options.quantization.weightBits ? { weightBits: options.quantization.weightBits } : {}),
          ...(bias ? { bias } : {}),
        });
      }
      const mm = g.op('MatMul', [
        input,
        g.addInitializer(`${name}.${tag}.weight`, { values: kn, dims: [inputSize, out] }),
      ]);
      return bias === null
        ? mm
        : g.op('Add', [mm, g.addInitializer(`${name}.${tag}.bias`, { values: bias, dims: [out] })]);
    };

    // Self-attention.
    const normed = g.op(
      'LayerNormalization',
      [
        x,
        param(g, `${name}.layernorm_before.weight`, w(`${hf}.layernorm_before.weight`)),
        param(g, `${name}.layernorm_before.bias`, w(`${hf}.layernorm_before.bias`)),
      ],
      { axis: lastAxis, epsilon: eps },
    );
    const { weight: qkvWeight, bias: qkvBias } = fusedQkv(config, weights, hf, 1 / Math.sqrt(headSize));
    const qkv = linear(normed, qkvWeight, qkvBias, 3 * D, D, 'attention.qkv');
    const [q, k, v] = g.node('Split', [qkv, qkvSplit], { outputs: 3, attributes: { axis: lastAxis } }) as [
      string,
      string,
      string,
    ];
    const heads = (t: string, perm: number[]) =>
      g.op('Transpose', [g.op('Reshape', [t, toHeads])], { perm: attr.ints(perm) });
    const scores = g.op('MatMul', [heads(q, [0, 2, 1, 3]), heads(k, [0, 2, 3, 1])]); // [N,H,S,S], already scaled
    const probs = g.op('Softmax', [scores], { axis: lastAxis });
    const context = g.op('MatMul', [probs, heads(v, [0, 2, 1, 3])]); // [N,H,S,hs]
    const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: attr.ints([0, 2, 1, 3]) }), fromHeads]);
    const attention = linear(
      merged,
      w(`${hf}.attention.output.dense.weight`),
      w(`${hf}.attention.output.dense.bias`),
      D,
      D,
      'attention.output',
    );
    x = g.op('Add', [x, attention]);

    // MLP with exact GELU: 0.5·h·(1 + erf(h/√2)).
    const normed2 = g.op(
      'LayerNormalization',
      [
        x,
        param(g, `${name}.layernorm_after.weight`, w(`${hf}.layernorm_after.weight`)),
        param(g, `${name}.layernorm_after.bias`, w(`${hf}.layernorm_after.bias`)),
      ],
      { axis: lastAxis, epsilon: eps },
    );
    const hidden = linear(
      normed2,
      w(`${hf}.intermediate.dense.weight`),
      w(`${hf}.intermediate.dense.bias`),
      config.intermediateSize,
      D,
      'intermediate',
    );
    const gelu = g.op('Mul', [
      g.op('Mul', [hidden, g.op('Add', [g.op('Erf', [g.op('Div', [hidden, sqrt2])]), one])]),
      half,
    ]);
    const out = linear(
      gelu,
      w(`${hf}.output.dense.weight`),
      w(`${hf}.output.dense.bias`),
      D,
      config.intermediateSize,
      'output',
    );
    x = g.op('Add', [x, out]);
  }

  // Classifier on the CLS token.
  const clsOut = g.op('Gather', [x, g.constant({ values: BigInt64Array.from([0n]), dims: [] }, 'cls_index')], {
    axis: attr.int(1),
  });
  const final = g.op(
    'LayerNormalization',
    [
      clsOut,
      param(g, 'layernorm.weight', w('vit.layernorm.weight')),
      param(g, 'layernorm.bias', w('vit.layernorm.bias')),
    ],
    { axis: lastAxis, epsilon: eps },
  );
  const classifier = transpose(w('classifier.weight'), labels, D);
  g.op(
    'Add',
    [
      g.op('MatMul', [final, g.addInitializer('classifier.weight', { values: classifier, dims: [D, labels] })]),
      g.addInitializer('classifier.bias', { values: w('classifier.bias'), dims: [labels] }),
    ],
    {},
    VIT_OUTPUT_NAME,
  );
  return g;
}

function param(g: OnnxGraphBuilder, name: string, values: Float32Array): string {
  return g.addInitializer(name, { values, dims: [values.length] });
}

/** PyTorch Linear weight [out, in] → the [in, out] matrix that MatMul(x, W) needs. */
export function transpose(weight: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const rowOffset = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = weight[rowOffset + c]!;
  }
  return out;
}

/**
 * The query (scaled), key and value Linear layers as one PyTorch-layout Linear: weight [3D, D]
 * (rows: query outputs, then key, then value) and bias [3D] (zeros without qkv biases).
 */
function fusedQkv(
  config: VitConfig,
  weights: VitWeights,
  hf: string,
  queryScale: number,
): { weight: Float32Array; bias: Float32Array } {
  const D = config.hiddenSize;
  const weight = new Float32Array(3 * D * D);
  const bias = new Float32Array(3 * D);
  (['query', 'key', 'value'] as const).forEach((proj, part) => {
    const scale = part === 0 ? queryScale : 1;
    const wt = weights.get(`${hf}.attention.attention.${proj}.weight`)!.data; // [out, in]
    for (let i = 0; i < D * D; i++) weight[part * D * D + i] = wt[i]! * scale;
    if (config.qkvBias) {
      const b = weights.get(`${hf}.attention.attention.${proj}.bias`)!.data;
      for (let o = 0; o < D; o++) bias[part * D + o] = b[o]! * scale;
    }
  });
  return { weight, bias };
}
