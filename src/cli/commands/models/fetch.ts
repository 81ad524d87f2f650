// `fer-stream models fetch ultraface|yunet|vit-fer`: downloads models from their publishers (or
// the FER_MODELS_BASE_URL mirror), verifies them and installs them into the models directory.

import path from 'node:path';
import { loadConfig } from '../../../config/index.ts';
import { fetchModels, MODEL_FAMILIES, parseFamily } from '../../../models/fetch/fetch.ts';
import { MIN_INT8_AGREEMENT } from '../../../inference/model-variant.ts';
import { faceApiSamplePhotos } from '../../../models/faceapi/sample-photos.ts';
import { convertVitWithInt8 } from '../../../models/quantize-dir.ts';
import { parseCommandArgs, UsageError } from '../../args.ts';
import { EXIT_CODES, type Command } from '../../command.ts';

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

const fetchCommand: Pick<Command, 'run'> = {
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      'models-dir': { type: 'string' },
      'base-url': { type: 'string' },
    });
    if (positionals.length === 0) throw new UsageError(`name the models to fetch: ${MODEL_FAMILIES.join(', ')}`);
    const families = positionals.map((name) => {
      try {
        return parseFamily(name);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    });
    const config = loadConfig(process.env, {
      ...(values['models-dir'] ? { modelsDir: path.resolve(values['models-dir']) } : {}),
      ...(values['base-url'] ? { faces: { modelsBaseUrl: values['base-url'] } } : {}),
    });
    const tty = process.stderr.isTTY === true;
    let lastDraw = 0;
    for (const family of families) {
      const installed = await fetchModels(family, {
        modelsDir: config.modelsDir,
        baseUrl: config.faces.modelsBaseUrl,
        retries: config.faces.fetchRetries,
        retryBaseMs: config.faces.fetchRetryBaseMs,
        idleTimeoutMs: config.faces.fetchIdleTimeoutMs,
        convertVit: async (from, outDir) => {
          if (tty) process.stderr.write('\n');
          console.error(`converting ${from} to ONNX …`);
          // int8 beside fp32, with its agreement measured (FER_MODEL_VARIANT=auto reads it).
          const record = await convertVitWithInt8(from, outDir, {
            photos: faceApiSamplePhotos(),
            modelsDir: config.modelsDir,
            inference: config.inference,
            cropMargin: config.faces.cropMargin,
          });
          console.error(
            `int8: ${(record.agreement.top1 * 100).toFixed(1)} % top-1 agreement with fp32 on ${record.agreement.crops} face crops (${record.agreement.top1 >= MIN_INT8_AGREEMENT ? 'runs by default on CPU' : 'fp32 stays the default'})`,
          );
        },
        // Progress only on a terminal, redrawn at most 10 times a second.
        onProgress: (p) => {
          const now = Date.now();
          const done = p.totalBytes !== undefined && p.receivedBytes >= p.totalBytes;
          if (!tty || (now - lastDraw < 100 && !done)) return;
          lastDraw = now;
          const share = p.totalBytes ? ` ${((100 * p.receivedBytes) / p.totalBytes).toFixed(0).padStart(3)}%` : '';
          process.stderr.write(
            `\r${family} ${p.file}${share} ${mb(p.receivedBytes)}${p.totalBytes ? ` / ${mb(p.totalBytes)}` : ''} MB\x1b[K${done ? '\n' : ''}`,
          );
        },
        onRetry: (e) => {
          if (tty) process.stderr.write('\n');
          console.error(
            `download failed (${e.error.message}); retry ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s${e.resumeFrom > 0 ? `, resuming at ${mb(e.resumeFrom)} MB` : ''}`,
          );
        },
      });
      for (const model of installed) console.log(`installed ${model.name} in ${model.dir}`);
    }
    return EXIT_CODES.ok;
  },
};

export default fetchCommand;
