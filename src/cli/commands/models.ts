// `fer-stream models <subcommand>`: building, converting and installing model directories.
// Each subcommand lives in its own module under models/ and is loaded only when used; add one by
// adding a row to the table below.

import { downloadableFamilies } from '../../inference/detectors/families/index.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

/**
 * A subcommand module's default export. Subcommand modules type themselves against command.ts
 * (e.g. `Pick<Command, 'run'>`), never against this file: importing the table that loads them
 * would be an import cycle.
 */
export type ModelsSubcommand = Pick<Command, 'run'>;

interface SubcommandEntry {
  readonly summary: string;
  /** Options, shown by `fer-stream models --help`. */
  readonly usage: string;
  readonly load: () => Promise<ModelsSubcommand>;
}

const subcommands: Record<string, SubcommandEntry> = {
  'build-vit': {
    summary: 'Write a ViT expression model directory (synthetic weights, or converted from Hugging Face safetensors)',
    usage: [
      'fer-stream models build-vit --synthetic [--preset tiny|base] [--seed N] --out DIR [--quantize per-channel] [--force]',
      'fer-stream models build-vit --from HF_DIR --out DIR [--quantize per-channel] [--force]',
      '  --synthetic    seeded random weights (normal, std 0.02), Hugging Face initialisation',
      '  --preset       base: ViT-B/16 224×224 (≈86 M parameters, ≈343 MB); tiny: width 64, 2 layers (default tiny)',
      '  --seed N       weight seed (default 0)',
      '  --from HF_DIR  a ViTForImageClassification directory: config.json + model.safetensors (+ preprocessor_config.json)',
      '  --out DIR      model directory to write: config.json, preprocessor_config.json, onnx/model.onnx',
      '  --force        overwrite an existing model in DIR',
      '  --quantize per-channel|per-tensor  also write onnx/model_quantized.onnx (dynamic int8 weights and activations)',
    ].join('\n'),
    load: async () => (await import('./models/build-vit.ts')).default,
  },
  'build-faceapi': {
    summary:
      "Convert face-api's trained tiny face detector and expression net (shipped on npm) to ONNX model directories",
    usage: [
      'fer-stream models build-faceapi [--out DIR]',
      '  --out DIR  folder to write faceapi-tiny-face-detector/ and faceapi-face-expression/ into',
      '             (default: the models directory, FER_MODELS_DIR); existing builds there are replaced',
    ].join('\n'),
    load: async () => (await import('./models/build-faceapi.ts')).default,
  },
  'fit-head': {
    summary: "Fit a new final layer on face-api's frozen expression net to your own labelled face crops",
    usage: [
      'fer-stream models fit-head --data DIR|FILE.csv [--out DIR] [--holdout F] [--flip] [--l2 X] [--json]',
      '  --data       face crops, one folder per label (DIR/happy/*.jpg) or a CSV of path,label (repeatable);',
      '               expression names map to the canonical seven, other labels are kept as your own classes',
      '  --out DIR    model directory to write (default FER_MODELS_DIR/faceapi-fitted-head); use it with --model',
      '  --holdout F  share of each class held out and scored (default 0.2; 0 = train on all)',
      '  --flip       also train on each face mirrored',
      '  --l2 X       L2 penalty of the softmax head (default 0.001)',
      "  Prints training and held-out accuracy, and face-api's own head on the same held-out faces.",
    ].join('\n'),
    load: async () => (await import('./models/fit-head.ts')).default,
  },
  fetch: {
    summary:
      'Download detector models or the seed ViT (converted to ONNX) from their publishers, verify and install them',
    usage: [
      `fer-stream models fetch ${[...downloadableFamilies().map((f) => f.name), 'vit-fer'].join('|')} … [--models-dir DIR] [--base-url URL]`,
      ...downloadableFamilies().map((f) => `  ${f.name.padEnd(11)} ${f.summary}`),
      '  vit-fer     motheecreator/vit-Facial-Expression-Recognition from Hugging Face, converted with the ViT builder',
      '  --models-dir DIR  install there (default FER_MODELS_DIR)',
      '  --base-url URL    a mirror serving <family>/<file> (default FER_MODELS_BASE_URL, else the publishers)',
      '  Partial downloads resume (HTTP Range) and are retried with backoff; checksums are verified;',
      '  a model appears in the models directory only once complete.',
    ].join('\n'),
    load: async () => (await import('./models/fetch.ts')).default,
  },
  quantize: {
    summary:
      'Write the dynamic int8 variant of a model directory and measure its agreement with fp32 (quantization.json)',
    usage: [
      'fer-stream models quantize --in DIR [--out DIR] [--images DIR] [--per-tensor] [--weight-bits 7|8]',
      '  --in DIR      a model directory of ours (config.json, preprocessor_config.json, onnx/model.onnx)',
      '  --out DIR     write the quantized directory there (default: beside fp32 in --in)',
      '  --images DIR  photos whose faces (found by BlazeFace) the agreement is measured on',
      "                (default: face-api's six sample photos, from npm); each crop also mirrored",
      '  --per-tensor  one weight scale per MatMul instead of one per output channel',
      '  --weight-bits 7 (default): the same answers on every CPU; 8: finer weights, but on AVX2 without',
      "                VNNI onnxruntime's int8 kernel saturates them, so auto trusts the figure only on",
      '                CPUs whose int8 arithmetic is like the measuring one',
      '  Every MatMul with a constant weight becomes int8 (what pays on CPU: the ViT); FER_MODEL_VARIANT=auto',
      '  then runs int8 on CPU where top-1 agreement is at least 99 %, fp32 otherwise, and says which.',
    ].join('\n'),
    load: async () => (await import('./models/quantize.ts')).default,
  },
  'install-local': {
    summary: 'Install the detector models from a local copy (e.g. ../shared/models), verifying their checksums',
    usage: [
      `fer-stream models install-local DIR [${downloadableFamilies()
        .map((f) => f.name)
        .join('|')} …] [--models-dir DIR]`,
      '  DIR holds <family>/<published file>, e.g. DIR/ultraface/version-RFB-320.onnx; default: every family',
    ].join('\n'),
    load: async () => (await import('./models/install-local.ts')).default,
  },
};

const models: Command = {
  summary: 'Build, convert and install model directories',
  get usage() {
    return [
      'Usage: fer-stream models <subcommand> [options]',
      '',
      ...Object.entries(subcommands).flatMap(([name, s]) => [
        `${name}: ${s.summary}`,
        s.usage.replace(/^/gm, '  '),
        '',
      ]),
    ].join('\n');
  },
  async run(args) {
    const [name, ...rest] = args;
    if (name === undefined) throw new UsageError(`give a subcommand: ${Object.keys(subcommands).join(', ')}`);
    const entry = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
    if (entry === undefined)
      throw new UsageError(`unknown models subcommand "${name}" (known: ${Object.keys(subcommands).join(', ')})`);
    const subcommand = await entry.load();
    return subcommand.run(rest);
  },
};

export default models;
