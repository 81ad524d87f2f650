// Whether this CPU's int8 MatMul sums its products exactly. onnxruntime's x86 kernel for uint8
// activations × int8 weights on AVX2 (and AVX-512 without VNNI) multiplies with VPMADDUBSW, which
// adds each pair of products into a 16-bit integer and saturates it: 255·127 + 255·127 = 64,770 does
// not fit in 32,767. VNNI and AMX accumulate in 32 bits, and so do ARM's kernels. A model with 8-bit
// weights therefore gives different answers on different CPUs (measured on the synthetic ViT-B/16:
// 95.2 % top-1 agreement with fp32 on an AVX2 EPYC, 97.6 % with VNNI); with 7-bit weights
// (|w| ≤ 63: 2·255·63 = 32,130) no pair can saturate and every CPU computes the same integers.

import { readFileSync } from 'node:fs';
import os from 'node:os';

export type Int8Arithmetic = 'exact' | 'saturating' | 'unknown';

export interface CpuInt8 {
  /** The CPU's model name (os.cpus()). */
  readonly cpu: string;
  readonly arithmetic: Int8Arithmetic;
  /** Why, in words (the instruction sets that decided it). */
  readonly why: string;
}

/** The x86 flags /proc/cpuinfo lists for the first CPU; undefined where there is no such file. */
function linuxCpuFlags(): ReadonlySet<string> | undefined {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => /^flags\s*:/.test(l));
    return line === undefined
      ? undefined
      : new Set(
          line
            .slice(line.indexOf(':') + 1)
            .trim()
            .split(/\s+/),
        );
  } catch {
    return undefined;
  }
}

/** How `arch` with `flags` (x86: /proc/cpuinfo's) computes onnxruntime's u8×s8 MatMul. */
export function int8ArithmeticOf(
  arch: string,
  flags: ReadonlySet<string> | undefined,
): { arithmetic: Int8Arithmetic; why: string } {
  if (arch === 'arm64') return { arithmetic: 'exact', why: 'ARM64: int8 products accumulate in 32 bits' };
  if (arch !== 'x64')
    return { arithmetic: 'unknown', why: `${arch}: onnxruntime's int8 kernels here are not known to fer-stream` };
  if (flags === undefined)
    return { arithmetic: 'unknown', why: 'x86-64 whose instruction sets could not be read (no /proc/cpuinfo)' };
  const vnni = ['avx512_vnni', 'avx_vnni', 'amx_int8'].filter((f) => flags.has(f));
  if (vnni.length > 0)
    return { arithmetic: 'exact', why: `x86-64 with ${vnni.join(', ')}: int8 products accumulate in 32 bits` };
  const wide = ['avx512bw', 'avx2'].filter((f) => flags.has(f));
  if (wide.length > 0)
    return {
      arithmetic: 'saturating',
      why: `x86-64 with ${wide[0]} and no VNNI: pairs of uint8×int8 products saturate at 16 bits (VPMADDUBSW)`,
    };
  return {
    arithmetic: 'unknown',
    why: "x86-64 without AVX2: onnxruntime's int8 kernels here are not known to fer-stream",
  };
}

let cached: CpuInt8 | undefined;

/** This machine's int8 arithmetic (read once). */
export function cpuInt8(): CpuInt8 {
  cached ??= {
    cpu: os.cpus()[0]?.model?.trim() || 'unknown CPU',
    ...int8ArithmeticOf(process.arch, process.arch === 'x64' ? linuxCpuFlags() : undefined),
  };
  return cached;
}
