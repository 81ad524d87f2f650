// The ONNX protobuf schema (onnx-proto, generated protobufjs code, CommonJS). The package has only
// a CommonJS default export, so the namespace is taken from it here once.
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';
