// `detector.json`: what a detector model directory holds and how to run it. Written by
// `models fetch` / `models install-local` from the catalogue, read by loadDetector.

import { z } from 'zod';

const triple = z.tuple([z.number(), z.number(), z.number()]);

export const detectorSpecSchema = z
  .object({
    /** Detector family (families/index.ts): the output format and its decoder. */
    type: z.string().min(1),
    /** ONNX file inside the directory. */
    model: z.string().min(1).default('model.onnx'),
    inputName: z.string().min(1).default('input'),
    /** Tensor layout of the input: channels first (NCHW, most exports) or last (NHWC, TensorFlow's, e.g. BlazeFace). */
    layout: z.enum(['nchw', 'nhwc']).default('nchw'),
    /** Network input size; for dynamic-size models the default, overridable by configuration. */
    inputWidth: z.number().int().min(16).max(4096),
    inputHeight: z.number().int().min(16).max(4096),
    /** Whether H and W may be chosen at run time (then multiples of `sizeMultiple`). */
    dynamicSize: z.boolean().default(false),
    sizeMultiple: z.number().int().min(1).default(32),
    /** Largest batch the exported graph accepts (1 where the batch dimension is fixed). */
    maxBatch: z.number().int().min(1).default(1),
    resize: z.enum(['stretch', 'letterbox']),
    channelOrder: z.enum(['rgb', 'bgr']),
    mean: triple,
    std: triple,
    /** The publisher's reference thresholds, used unless configuration overrides them. */
    scoreThreshold: z.number().min(0).max(1),
    nmsIou: z.number().min(0).max(1),
    source: z.string().optional(),
    license: z.string().optional(),
  })
  .refine((s) => !s.dynamicSize || (s.inputWidth % s.sizeMultiple === 0 && s.inputHeight % s.sizeMultiple === 0), {
    message: 'dynamic-size input width and height must be multiples of sizeMultiple',
  });

export type DetectorSpec = z.infer<typeof detectorSpecSchema>;

export const DETECTOR_SPEC_FILE = 'detector.json';

/** Parses detector.json text with an error naming the file and every invalid field. */
export function parseDetectorSpec(text: string, where: string): DetectorSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const parsed = detectorSpecSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `${where}: invalid detector description: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
