// face-api's FaceRecognitionNet (faceRecognitionNet/FaceRecognitionNet.forwardInput, convLayer,
// residualLayer, scaleLayer) as an ONNX graph: the dlib ResNet-34 face descriptor, 150×150 RGB in,
// 128 values out; two faces of one person lie within ≈ 0.6 of each other (Euclidean distance).
// Layer for layer as the original, including its zero padding where a strided branch comes out
// smaller than the pooled shortcut (150 px input: 3×3 vs 4×4, then 1×1 vs 2×2).

import { OnnxGraphBuilder, attr } from '../onnx/index.ts';
import { hwioToOihw } from './networks.ts';
import { takeWeight, type WeightTensor } from './weights.ts';

type Weights = ReadonlyMap<string, WeightTensor>;

export const RECOGNITION_INPUT_SIZE = 150;
export const RECOGNITION_DIMENSIONS = 128;
/** Graph input/output names: the image-model input convention, and the descriptor. */
export const RECOGNITION_IO = { input: 'pixel_values', output: 'embedding' } as const;

/**
 * Input `pixel_values` [N,3,150,150] already normalised ((x − mean) / 255, the same means as the
 * expression net), output `embedding` [N,128].
 */
export function buildRecognitionNet(weights: Weights): OnnxGraphBuilder {
  const g = new OnnxGraphBuilder({
    graphName: 'faceapi_face_recognition',
    producerName: 'fer-stream build-faceapi',
    opset: 17,
  });
  const size = RECOGNITION_INPUT_SIZE;
  g.addInput(RECOGNITION_IO.input, 'float32', ['batch', 3, size, size]);
  const net = new ResNetLayers(g, weights);
  // Spatial sizes for a 150 px input: 72 after conv32_down, 35 after the pool, then 17, 8, 3(+1), 1(+1).
  let x = net.conv(RECOGNITION_IO.input, 'conv32_down', 7, 3, 32, { stride: 2, relu: true });
  x = g.op('MaxPool', [x], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]) });
  for (const name of ['conv32_1', 'conv32_2', 'conv32_3']) x = net.residual(x, name, 32);
  x = net.residualDown(x, 'conv64_down', 32, 64, 35);
  for (const name of ['conv64_1', 'conv64_2', 'conv64_3']) x = net.residual(x, name, 64);
  x = net.residualDown(x, 'conv128_down', 64, 128, 17);
  for (const name of ['conv128_1', 'conv128_2']) x = net.residual(x, name, 128);
  x = net.residualDown(x, 'conv256_down', 128, 256, 8);
  for (const name of ['conv256_1', 'conv256_2']) x = net.residual(x, name, 256);
  x = net.residualDown(x, 'conv256_down_out', 256, 256, 4);
  const pooled = g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: attr.int(1) });
  const fc = g.addInitializer('fc', {
    values: takeWeight(weights, 'fc', [256, RECOGNITION_DIMENSIONS]).data,
    dims: [256, RECOGNITION_DIMENSIONS],
  });
  g.op('MatMul', [pooled, fc], {}, RECOGNITION_IO.output);
  g.addOutput(RECOGNITION_IO.output, 'float32', ['batch', RECOGNITION_DIMENSIONS]);
  return g;
}

class ResNetLayers {
  constructor(
    private readonly g: OnnxGraphBuilder,
    private readonly weights: Weights,
  ) {}

  /**
   * conv + bias, then the scale layer (x·w + b per channel), then ReLU if asked; 'same' at stride 1, 'valid' at stride
   * 2.
   */
  conv(
    x: string,
    prefix: string,
    kernel: number,
    cin: number,
    cout: number,
    options: { stride: number; relu: boolean },
  ): string {
    const g = this.g;
    const shape = [kernel, kernel, cin, cout] as const;
    const filters = g.addInitializer(`${prefix}/conv/filters`, {
      values: hwioToOihw(takeWeight(this.weights, `${prefix}/conv/filters`, shape).data, shape),
      dims: [cout, cin, kernel, kernel],
    });
    const bias = g.addInitializer(`${prefix}/conv/bias`, {
      values: takeWeight(this.weights, `${prefix}/conv/bias`, [cout]).data,
      dims: [cout],
    });
    const half = options.stride === 1 ? (kernel - 1) / 2 : 0;
    const conv = g.op('Conv', [x, filters, bias], {
      kernel_shape: attr.ints([kernel, kernel]),
      strides: attr.ints([options.stride, options.stride]),
      pads: attr.ints([half, half, half, half]),
    });
    const scale = g.addInitializer(`${prefix}/scale/weights`, {
      values: takeWeight(this.weights, `${prefix}/scale/weights`, [cout]).data,
      dims: [1, cout, 1, 1],
    });
    const shift = g.addInitializer(`${prefix}/scale/biases`, {
      values: takeWeight(this.weights, `${prefix}/scale/biases`, [cout]).data,
      dims: [1, cout, 1, 1],
    });
    const scaled = g.op('Add', [g.op('Mul', [conv, scale]), shift]);
    return options.relu ? g.op('Relu', [scaled]) : scaled;
  }

  /** relu(conv2(relu(conv1(x))) + x). */
  residual(x: string, prefix: string, channels: number): string {
    const out = this.conv(
      this.conv(x, `${prefix}/conv1`, 3, channels, channels, { stride: 1, relu: true }),
      `${prefix}/conv2`,
      3,
      channels,
      channels,
      { stride: 1, relu: false },
    );
    return this.g.op('Relu', [this.g.op('Add', [out, x])]);
  }

  /**
   * relu(conv2(relu(conv1 stride 2 'valid' (x))) + avgPool2×2(x)), the pooled shortcut padded with
   * zero channels to `cout`; where the strided branch is one smaller than the pool (odd-even sizes),
   * face-api appends a zero row and column to the branch.
   */
  residualDown(x: string, prefix: string, cin: number, cout: number, inputSize: number): string {
    const g = this.g;
    let out = this.conv(
      this.conv(x, `${prefix}/conv1`, 3, cin, cout, { stride: 2, relu: true }),
      `${prefix}/conv2`,
      3,
      cout,
      cout,
      { stride: 1, relu: false },
    );
    let pooled = g.op('AveragePool', [x], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
    const branchSize = Math.floor((inputSize - 3) / 2) + 1;
    const poolSize = Math.floor(inputSize / 2);
    if (branchSize !== poolSize)
      out = g.op('Pad', [
        out,
        g.int64s([0, 0, 0, 0, 0, 0, poolSize - branchSize, poolSize - branchSize], `${prefix}_pad_hw`),
      ]);
    if (cin !== cout) pooled = g.op('Pad', [pooled, g.int64s([0, 0, 0, 0, 0, cout - cin, 0, 0], `${prefix}_pad_c`)]);
    return g.op('Relu', [g.op('Add', [pooled, out])]);
  }
}
