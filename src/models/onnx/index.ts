// Generic ONNX model building (no onnxruntime here): used by the ViT and face-api converters.
export {
  OnnxGraphBuilder,
  attr,
  decodeModel,
  type AttributeValue,
  type Dim,
  type GraphBuilderOptions,
  type NodeOptions,
} from './graph-builder.ts';
export { ELEMENT_TYPES, elementCount, type ElementType, type TensorInit, type TensorValues } from './tensor.ts';
