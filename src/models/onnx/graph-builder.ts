// A small builder of ONNX models (one graph, standard operators) on the onnx-proto schema.
//
// Large models: initializers keep a reference to the caller's typed array and are never copied
// into protobufjs objects. Serialisation encodes the small parts (nodes, inputs, tensor headers)
// with protobufjs and writes each initializer's raw_data straight from the array's memory, so
// writing a 343 MB ViT-B needs no second 343 MB buffer (`writeFile`), and `toBytes` copies once.

import { open } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { onnx, type OnnxTypes } from './proto.ts';
import {
  ELEMENT_TYPES,
  checkTensor,
  rawBytes,
  type ElementType,
  type TensorInit,
  type TensorValues,
} from './tensor.ts';

/** A dimension of a graph input/output: a fixed size, or a symbolic name (dim_param) for a dynamic one. */
export type Dim = number | string;

/** A typed node attribute; build them with `attr.int(…)`, `attr.float(…)`, … */
export type AttributeValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'strings'; readonly value: readonly string[] }
  | { readonly kind: 'tensor'; readonly value: TensorInit };

/** Attribute constructors. ONNX distinguishes int and float attributes, so the kind is always explicit. */
export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value: checkInt(value) }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: 'ints', value: value.map(checkInt) }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: 'floats', value: [...value] }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  strings: (value: readonly string[]): AttributeValue => ({ kind: 'strings', value: [...value] }),
  tensor: (value: TensorInit): AttributeValue => ({ kind: 'tensor', value }),
};

function checkInt(value: number): number {
  if (!Number.isSafeInteger(value)) throw new RangeError(`integer attribute value ${value} is not a safe integer`);
  return value;
}

export interface NodeOptions {
  /** Output names, or how many outputs to name automatically (default 1). */
  readonly outputs?: number | readonly string[];
  readonly name?: string;
  /** Operator domain; '' (default) is the standard ONNX domain. */
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface GraphBuilderOptions {
  readonly graphName?: string;
  /** Version of the standard ONNX operator set (default 17: LayerNormalization needs ≥ 17). */
  readonly opset?: number;
  /** Other operator sets, e.g. { 'com.microsoft': 1 }. */
  readonly extraOpsets?: Readonly<Record<string, number>>;
  readonly producerName?: string;
  readonly docString?: string;
  /** Stored in ModelProto.metadata_props. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** ONNX IR version 8 (ONNX 1.10–1.13) covers opsets up to 18. */
const IR_VERSION = 8;
/** protobuf messages cannot exceed 2 GiB; bigger models need external data, which this builder does not write. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: ElementType;
  readonly values: TensorValues;
}

interface NodeRecord {
  readonly proto: OnnxTypes.INodeProto;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export class OnnxGraphBuilder {
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly valueInfos: OnnxTypes.IValueInfoProto[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly nodes: NodeRecord[] = [];
  /** Every value name defined so far (inputs, initializers, node outputs). */
  private readonly defined = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly opset: number;

  constructor(private readonly options: GraphBuilderOptions = {}) {
    this.opset = options.opset ?? 17;
    if (!Number.isInteger(this.opset) || this.opset < 1 || this.opset > 18) {
      throw new RangeError(`opset ${options.opset} is not supported: IR version ${IR_VERSION} allows opsets 1..18`);
    }
  }

  get opsetVersion(): number {
    return this.opset;
  }

  get parameterCount(): number {
    return this.initializers.reduce((sum, init) => sum + init.values.length, 0);
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** A fresh value or node name starting with `prefix`. */
  uniqueName(prefix: string): string {
    let n = this.counters.get(prefix) ?? 0;
    let name: string;
    do name = `${prefix}_${n++}`;
    while (this.defined.has(name));
    this.counters.set(prefix, n);
    return name;
  }

  addInput(name: string, type: ElementType, dims: readonly Dim[]): string {
    this.define(name, 'graph input');
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares a graph output; a node must produce `name` before serialisation. */
  addOutput(name: string, type: ElementType, dims: readonly Dim[]): string {
    if (this.outputs.some((o) => o.name === name)) throw new Error(`graph output "${name}" is declared twice`);
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Optional shape information for an intermediate value. */
  addValueInfo(name: string, type: ElementType, dims: readonly Dim[]): void {
    this.valueInfos.push(valueInfo(name, type, dims));
  }

  /**
   * A constant tensor (weights). The array is kept by reference, not copied: do not modify it
   * until the model is serialised.
   */
  addInitializer(name: string, init: TensorInit): string {
    const type = checkTensor(name, init);
    this.define(name, 'initializer');
    this.initializers.push({ name, dims: [...init.dims], type, values: init.values });
    return name;
  }

  /** An initializer with a generated name. */
  constant(init: TensorInit, prefix = 'const'): string {
    return this.addInitializer(this.uniqueName(prefix), init);
  }

  /** A 1-D int64 constant, e.g. a Reshape shape or Slice bounds. */
  int64s(values: readonly number[], prefix = 'i64'): string {
    return this.constant(
      { values: BigInt64Array.from(values.map((v) => BigInt(checkInt(v)))), dims: [values.length] },
      prefix,
    );
  }

  /** A float32 constant: a scalar (dims []) by default. */
  float32(values: number | readonly number[], dims?: readonly number[], prefix = 'f32'): string {
    const array = Float32Array.from(typeof values === 'number' ? [values] : values);
    return this.constant({ values: array, dims: dims ?? (typeof values === 'number' ? [] : [array.length]) }, prefix);
  }

  /**
   * Adds a node; returns its output names. Inputs must already be defined (graph inputs,
   * initializers or outputs of earlier nodes), so nodes are added in topological order; '' marks
   * an omitted optional input.
   */
  node(opType: string, inputs: readonly string[], options: NodeOptions = {}): string[] {
    for (const input of inputs) {
      if (input !== '' && !this.defined.has(input)) {
        throw new Error(
          `${opType} node: input "${input}" is not defined yet (add graph inputs, initializers and producing nodes first)`,
        );
      }
    }
    const outputs =
      typeof options.outputs === 'object'
        ? [...options.outputs]
        : Array.from({ length: options.outputs ?? 1 }, () => this.uniqueName(opType));
    for (const output of outputs) if (output !== '') this.define(output, `output of ${opType}`);
    const attribute = Object.entries(options.attributes ?? {}).map(([name, value]) => attributeProto(name, value));
    this.nodes.push({
      proto: {
        opType,
        name: options.name ?? this.uniqueName(`${opType}_node`),
        domain: options.domain ?? '',
        input: [...inputs],
        output: outputs,
        attribute,
      },
      inputs,
      outputs,
    });
    return outputs;
  }

  /** A node with one output; returns its name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
    outputName?: string,
  ): string {
    return this.node(opType, inputs, {
      attributes,
      ...(outputName === undefined ? {} : { outputs: [outputName] }),
    })[0]!;
  }

  /** The serialised model in one buffer (one copy of the weights). */
  toBytes(): Uint8Array {
    const { chunks, byteLength } = this.encode();
    const bytes = new Uint8Array(byteLength);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }

  /** Writes the model to `file` (parent folders created), streaming the weights; returns the size in bytes. */
  async writeFile(file: string): Promise<number> {
    const { chunks, byteLength } = this.encode();
    await mkdir(path.dirname(file), { recursive: true });
    const handle = await open(file, 'w');
    try {
      // Small chunks are gathered so the file is written in a few large calls.
      let batch: Uint8Array[] = [];
      let batchBytes = 0;
      const flush = async () => {
        if (batch.length > 0) await handle.writev(batch);
        batch = [];
        batchBytes = 0;
      };
      for (const chunk of chunks) {
        batch.push(chunk);
        batchBytes += chunk.length;
        if (batchBytes >= 4 << 20 || batch.length >= 512) await flush();
      }
      await flush();
    } finally {
      await handle.close();
    }
    return byteLength;
  }

  private define(name: string, what: string): void {
    if (name === '') throw new Error(`${what}: empty value name`);
    if (this.defined.has(name)) throw new Error(`${what}: value name "${name}" is already defined`);
    this.defined.add(name);
  }

  private encode(): { chunks: Uint8Array[]; byteLength: number } {
    for (const output of this.outputs) {
      if (!this.defined.has(output.name!))
        throw new Error(`graph output "${output.name}" is not produced by any node, input or initializer`);
    }
    if (this.outputs.length === 0) throw new Error('the graph has no outputs');

    const opsetImport = [
      { domain: '', version: this.opset },
      ...Object.entries(this.options.extraOpsets ?? {}).map(([domain, version]) => ({ domain, version })),
    ];
    const modelHead = onnx.ModelProto.encode({
      irVersion: IR_VERSION,
      opsetImport,
      producerName: this.options.producerName ?? 'fer-stream',
      docString: this.options.docString ?? '',
      metadataProps: Object.entries(this.options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    }).finish();
    const graphHead = onnx.GraphProto.encode({
      name: this.options.graphName ?? 'graph',
      node: this.nodes.map((n) => n.proto),
      input: this.inputs,
      output: this.outputs,
      valueInfo: this.valueInfos,
    }).finish();

    // Graph = graphHead + one `initializer` field (5) per tensor; tensor = header + raw_data field (9).
    const graphChunks: Uint8Array[] = [graphHead];
    let graphLength = graphHead.length;
    for (const init of this.initializers) {
      const header = onnx.TensorProto.encode({
        name: init.name,
        dims: [...init.dims],
        dataType: ELEMENT_TYPES[init.type],
      }).finish();
      const raw = rawBytes(init.values);
      const rawField = fieldHeader(9, raw.length);
      const tensorLength = header.length + rawField.length + raw.length;
      const initField = fieldHeader(5, tensorLength);
      graphChunks.push(initField, header, rawField, raw);
      graphLength += initField.length + tensorLength;
    }
    const graphField = fieldHeader(7, graphLength);
    const byteLength = modelHead.length + graphField.length + graphLength;
    if (byteLength > PROTOBUF_LIMIT) {
      throw new RangeError(
        `the model would be ${byteLength} bytes; ONNX protobuf files are limited to 2 GiB (external data is not supported)`,
      );
    }
    return { chunks: [modelHead, graphField, ...graphChunks], byteLength };
  }
}

/** Tag and length of a length-delimited protobuf field. */
function fieldHeader(fieldNumber: number, length: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = (fieldNumber << 3) | 2; ;) {
    if (v < 0x80) {
      bytes.push(v);
      break;
    }
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  for (let v = length; ;) {
    if (v < 0x80) {
      bytes.push(v);
      break;
    }
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  return Uint8Array.from(bytes);
}

function valueInfo(name: string, type: ElementType, dims: readonly Dim[]): OnnxTypes.IValueInfoProto {
  const dim = dims.map((d) => {
    if (typeof d === 'string') {
      if (d === '') throw new Error(`value "${name}": a dynamic dimension needs a name`);
      return { dimParam: d };
    }
    checkInt(d);
    if (d < 0) throw new RangeError(`value "${name}": dimension ${d} is negative (use a name for a dynamic dimension)`);
    return { dimValue: d };
  });
  return { name, type: { tensorType: { elemType: ELEMENT_TYPES[type], shape: { dim } } } };
}

function tensorProto(name: string, init: TensorInit): OnnxTypes.ITensorProto {
  const type = checkTensor(name, init);
  // Attribute tensors are small: a copy of their bytes is fine here.
  return { name, dims: [...init.dims], dataType: ELEMENT_TYPES[type], rawData: rawBytes(init.values).slice() };
}

function attributeProto(name: string, value: AttributeValue): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (value.kind) {
    case 'int':
      return { name, type: T.INT, i: value.value };
    case 'float':
      return { name, type: T.FLOAT, f: value.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...value.value] };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...value.value] };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(value.value) };
    case 'strings':
      return { name, type: T.STRINGS, strings: value.value.map((s) => new TextEncoder().encode(s)) };
    case 'tensor':
      return { name, type: T.TENSOR, t: tensorProto(name, value.value) };
  }
}

/** Parses a serialised model (for inspection and tests). */
export function decodeModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
