// The two face-api networks as ONNX graphs, layer for layer as defined in face-api's sources
// (tinyYolov2/TinyYolov2Base.runMobilenet, faceFeatureExtractor/denseBlock.denseBlock4,
// faceProcessor/FaceProcessor.runNet). Weights arrive in tfjs layouts (HWIO filters) and are
// transposed to ONNX's (OIHW); activations are NCHW.

import { OnnxGraphBuilder, attr } from '../onnx/index.ts';
import { TINY_FACE_MEAN_RGB } from '../../inference/detectors/tiny-face-decode.ts';
import { takeWeight, type WeightTensor } from './weights.ts';

type Weights = ReadonlyMap<string, WeightTensor>;

/** Per-channel means (RGB) subtracted before /255 by face-api's feature extractor. */
export const EXPRESSION_MEAN_RGB = [122.782, 117.001, 104.298] as const;
export const EXPRESSION_INPUT_SIZE = 112;
/** face-api's FACE_EXPRESSION_LABELS, in the order of the network's outputs. */
export const EXPRESSION_LABELS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;

/** Graph input/output names of the detector (read by src/inference/detectors/tiny-face.ts). */
export const TINY_FACE_IO = { input: 'image', output: 'grid' } as const;
/** Graph input/output names of the expression net (the image-classifier convention). */
export const EXPRESSION_IO = { input: 'pixel_values', output: 'logits' } as const;

/** tfjs conv filter [kh, kw, in, out] → ONNX Conv weight data in [out, in, kh, kw] order. */
export function hwioToOihw(data: Float32Array, [kh, kw, cin, cout]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < cin!; i++)
        for (let o = 0; o < cout!; o++)
          out[((o * cin! + i) * kh! + y) * kw! + x] = data[((y * kw! + x) * cin! + i) * cout! + o]!;
  return out;
}

const SAME_3x3 = [1, 1, 1, 1];
/** TF 'same' for a 3×3 kernel, stride 2, even input: the one padding row/column goes at the end. */
const SAME_3x3_STRIDE2 = [0, 0, 1, 1];
const VALID = [0, 0, 0, 0];

/** Adds face-api layers, reading their tfjs-layout weights, onto an ONNX graph. */
class Layers {
  constructor(
    readonly g: OnnxGraphBuilder,
    private readonly weights: Weights,
  ) {}

  private filter(name: string, shape: readonly [number, number, number, number], depthwise = false): string {
    const [kh, kw, cin, cout] = shape;
    const data = hwioToOihw(takeWeight(this.weights, name, shape).data, shape);
    // A depthwise filter [kh,kw,C,1] becomes [1,C,kh,kw] data: the same bytes as ONNX's grouped [C,1,kh,kw].
    return this.g.addInitializer(name, { values: data, dims: depthwise ? [cin, 1, kh, kw] : [cout, cin, kh, kw] });
  }

  private bias(name: string, size: number): string {
    return this.g.addInitializer(name, { values: takeWeight(this.weights, name, [size]).data, dims: [size] });
  }

  /** tf.conv2d + bias (`pads` = [top, left, bottom, right]). */
  conv(
    x: string,
    prefix: string,
    kernel: number,
    cin: number,
    cout: number,
    stride: number,
    pads: readonly number[],
    outputName?: string,
  ): string {
    const w = this.filter(`${prefix}/filters`, [kernel, kernel, cin, cout]);
    const b = this.bias(`${prefix}/bias`, cout);
    return this.g.op(
      'Conv',
      [x, w, b],
      { kernel_shape: attr.ints([kernel, kernel]), strides: attr.ints([stride, stride]), pads: attr.ints(pads) },
      outputName,
    );
  }

  /** tf.separableConv2d (depthwise 3×3 with the stride, then pointwise 1×1) + bias. */
  separable(x: string, prefix: string, cin: number, cout: number, stride: number, pads: readonly number[]): string {
    const dw = this.filter(`${prefix}/depthwise_filter`, [3, 3, cin, 1], true);
    const pw = this.filter(`${prefix}/pointwise_filter`, [1, 1, cin, cout]);
    const b = this.bias(`${prefix}/bias`, cout);
    const depthwise = this.g.op('Conv', [x, dw], {
      kernel_shape: attr.ints([3, 3]),
      strides: attr.ints([stride, stride]),
      pads: attr.ints(pads),
      group: attr.int(cin),
    });
    return this.g.op('Conv', [depthwise, pw, b], { kernel_shape: attr.ints([1, 1]) });
  }

  /** face-api's leaky(x) = relu(x − 0.1x) + 0.1x, i.e. LeakyRelu with slope 0.1. */
  leaky(x: string): string {
    return this.g.op('LeakyRelu', [x], { alpha: attr.float(0.1) });
  }

  /** tf.maxPool 2×2 'same': TF pads at the end, which ONNX calls SAME_UPPER (works for any input size). */
  maxPool(x: string, stride: number): string {
    return this.g.op('MaxPool', [x], {
      kernel_shape: attr.ints([2, 2]),
      strides: attr.ints([stride, stride]),
      auto_pad: attr.string('SAME_UPPER'),
    });
  }

  /** (x − mean) / 255 per RGB channel of an NCHW input. */
  normalise(x: string, mean: readonly number[]): string {
    const centred = this.g.op('Sub', [x, this.g.float32(mean, [1, 3, 1, 1], 'mean_rgb')]);
    return this.g.op('Div', [centred, this.g.float32(255, [], 'scale_255')]);
  }
}

/**
 * The tiny face detector: input `image` [N,3,H,W] raw RGB 0..255 (H, W multiples of 32; face-api
 * uses 416×416), output `grid` [N,25,H/32,W/32] = per cell and anchor (tx, ty, tw, th, objectness),
 * channel = anchor·5 + k, before sigmoid/exp (decoded by our detector code).
 */
export function buildTinyFaceDetector(weights: Weights): OnnxGraphBuilder {
  const g = new OnnxGraphBuilder({
    graphName: 'faceapi_tiny_face_detector',
    producerName: 'fer-stream build-faceapi',
    opset: 17,
  });
  const L = new Layers(g, weights);
  g.addInput(TINY_FACE_IO.input, 'float32', ['batch', 3, 'height', 'width']);
  let x = L.normalise(TINY_FACE_IO.input, TINY_FACE_MEAN_RGB);
  // filterSizes [3, 16, 32, 64, 128, 256, 512]: conv0 is a plain 3×3 'valid' conv; conv6/conv7 are absent.
  x = L.maxPool(L.leaky(L.conv(x, 'conv0', 3, 3, 16, 1, VALID)), 2);
  const channels = [16, 32, 64, 128, 256, 512];
  for (let i = 1; i <= 5; i++) {
    // face-api's own depthwiseSeparableConv here pads by 1 on every side, then convolves 'valid'.
    x = L.leaky(L.separable(x, `conv${i}`, channels[i - 1]!, channels[i]!, 1, SAME_3x3));
    x = L.maxPool(x, i < 5 ? 2 : 1);
  }
  L.conv(x, 'conv8', 1, 512, 25, 1, VALID, TINY_FACE_IO.output);
  g.addOutput(TINY_FACE_IO.output, 'float32', ['batch', 25, 'grid_h', 'grid_w']);
  return g;
}

/** The face-api expression net's pooled features (input of its final layer), for fitting heads. */
export const EXPRESSION_FEATURES = { output: 'features', dimensions: 256 } as const;

/** A replacement final layer (models/head): [256 × classes] row-major weights and a bias. */
export interface ExpressionHead {
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly classes: number;
}

/**
 * face-api's FaceExpressionNet: input `pixel_values` [N,3,112,112] already normalised
 * ((x − mean) / 255, described in the model directory's preprocessor_config.json), output `logits`
 * [N,7] before softmax, classes in EXPRESSION_LABELS order. With `head`, the final layer is that
 * one instead (a head fitted on the net's features: `logits` [N, head.classes]); with `features`,
 * the graph ends before the final layer (`features` [N,256]).
 */
export function buildExpressionNet(
  weights: Weights,
  options: { head?: ExpressionHead; features?: boolean } = {},
): OnnxGraphBuilder {
  const g = new OnnxGraphBuilder({
    graphName: 'faceapi_face_expression',
    producerName: 'fer-stream build-faceapi',
    opset: 17,
  });
  const L = new Layers(g, weights);
  const size = EXPRESSION_INPUT_SIZE;
  g.addInput(EXPRESSION_IO.input, 'float32', ['batch', 3, size, size]);
  let x: string = EXPRESSION_IO.input;
  const channels = [3, 32, 64, 128, 256];
  for (let block = 0; block < 4; block++) {
    x = denseBlock4(L, x, `dense${block}`, channels[block]!, channels[block + 1]!, block === 0);
  }
  // avgPool 7×7, stride 2, 'valid' on the 7×7 map: one value per channel.
  const pooled = g.op('AveragePool', [x], { kernel_shape: attr.ints([7, 7]), strides: attr.ints([2, 2]) });
  if (options.features) {
    g.op('Flatten', [pooled], { axis: attr.int(1) }, EXPRESSION_FEATURES.output);
    g.addOutput(EXPRESSION_FEATURES.output, 'float32', ['batch', EXPRESSION_FEATURES.dimensions]);
    return g;
  }
  const flat = g.op('Flatten', [pooled], { axis: attr.int(1) });
  const { head } = options;
  const classes = head?.classes ?? EXPRESSION_LABELS.length;
  const fcWeights = g.addInitializer('fc/weights', {
    values: head?.weights ?? takeWeight(weights, 'fc/weights', [256, 7]).data,
    dims: [256, classes],
  });
  const fcBias = g.addInitializer('fc/bias', {
    values: head?.bias ?? takeWeight(weights, 'fc/bias', [7]).data,
    dims: [classes],
  });
  g.op('Add', [g.op('MatMul', [flat, fcWeights]), fcBias], {}, EXPRESSION_IO.output);
  g.addOutput(EXPRESSION_IO.output, 'float32', ['batch', classes]);
  return g;
}

/**
 * face-api's denseBlock4 (scale-down variant): out1 = relu(conv0 stride 2), then three separable
 * convs each fed the relu of the running sum; returns relu(out1 + out2 + out3 + out4).
 */
function denseBlock4(L: Layers, x: string, prefix: string, cin: number, cout: number, isFirst: boolean): string {
  const g = L.g;
  const conv0 = isFirst
    ? L.conv(x, `${prefix}/conv0`, 3, cin, cout, 2, SAME_3x3_STRIDE2)
    : L.separable(x, `${prefix}/conv0`, cin, cout, 2, SAME_3x3_STRIDE2);
  const out1 = g.op('Relu', [conv0]);
  const out2 = L.separable(out1, `${prefix}/conv1`, cout, cout, 1, SAME_3x3);
  const in3 = g.op('Relu', [g.op('Add', [out1, out2])]);
  const out3 = L.separable(in3, `${prefix}/conv2`, cout, cout, 1, SAME_3x3);
  // Sums in face-api's association order: out1 + (out2 + out3), out1 + (out2 + (out3 + out4)).
  const in4 = g.op('Relu', [g.op('Add', [out1, g.op('Add', [out2, out3])])]);
  const out4 = L.separable(in4, `${prefix}/conv3`, cout, cout, 1, SAME_3x3);
  return g.op('Relu', [g.op('Add', [out1, g.op('Add', [out2, g.op('Add', [out3, out4])])])]);
}
