// Element types and raw little-endian tensor bytes for ONNX TensorProto.raw_data.

import { endianness } from 'node:os';

/** ONNX element types the builder writes (TensorProto.DataType numbers). */
export const ELEMENT_TYPES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
} as const;

export type ElementType = keyof typeof ELEMENT_TYPES;

/**
 * Values of a tensor, as the typed array that holds them. float16 and bfloat16 values are given
 * as their bit patterns in a Uint16Array (say which with `elementType`); bool as 0/1 in a Uint8Array.
 */
export type TensorValues =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export interface TensorInit {
  readonly values: TensorValues;
  readonly dims: readonly number[];
  /** Needed only where the array type is ambiguous: Uint16Array (uint16/float16/bfloat16), Uint8Array (uint8/bool). */
  readonly elementType?: ElementType;
}

const BYTES_PER_ELEMENT: Record<ElementType, number> = {
  float32: 4,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  int32: 4,
  int64: 8,
  bool: 1,
  float16: 2,
  float64: 8,
  uint32: 4,
  uint64: 8,
  bfloat16: 2,
};

/** The element type an array holds; throws where the given elementType does not fit the array. */
export function elementTypeOf(values: TensorValues, declared?: ElementType): ElementType {
  const natural: ElementType =
    values instanceof Float32Array
      ? 'float32'
      : values instanceof Float64Array
        ? 'float64'
        : values instanceof Int8Array
          ? 'int8'
          : values instanceof Uint8Array
            ? 'uint8'
            : values instanceof Int16Array
              ? 'int16'
              : values instanceof Uint16Array
                ? 'uint16'
                : values instanceof Int32Array
                  ? 'int32'
                  : values instanceof Uint32Array
                    ? 'uint32'
                    : values instanceof BigInt64Array
                      ? 'int64'
                      : 'uint64';
  if (declared === undefined || declared === natural) return natural;
  const allowed =
    (natural === 'uint16' && (declared === 'float16' || declared === 'bfloat16')) ||
    (natural === 'uint8' && declared === 'bool');
  if (!allowed) throw new TypeError(`a ${values.constructor.name} cannot hold ONNX ${declared} values`);
  return declared;
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0)
      throw new RangeError(`tensor dimension ${d} is not a non-negative integer (dims [${dims.join(', ')}])`);
    n *= d;
  }
  return n;
}

const littleEndianHost = endianness() === 'LE';

/**
 * raw_data bytes of a tensor. On little-endian hosts (all that Node ships for in practice) this is
 * a view of the array's own memory, so a 300 MB model is never copied into a second JS array; a
 * big-endian host gets a byte-swapped copy.
 */
export function rawBytes(values: TensorValues): Uint8Array {
  const view = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const width = values.BYTES_PER_ELEMENT;
  if (littleEndianHost || width === 1) return view;
  const swapped = new Uint8Array(view.length);
  for (let i = 0; i < view.length; i += width) {
    for (let b = 0; b < width; b++) swapped[i + b] = view[i + width - 1 - b]!;
  }
  return swapped;
}

export function checkTensor(name: string, init: TensorInit): ElementType {
  const type = elementTypeOf(init.values, init.elementType);
  const expected = elementCount(init.dims);
  if (init.values.length !== expected) {
    throw new RangeError(
      `tensor "${name}": ${init.values.length} values do not fill dims [${init.dims.join(', ')}] (${expected} elements)`,
    );
  }
  if (BYTES_PER_ELEMENT[type] !== init.values.BYTES_PER_ELEMENT)
    throw new TypeError(`tensor "${name}": element size mismatch for ${type}`);
  return type;
}
