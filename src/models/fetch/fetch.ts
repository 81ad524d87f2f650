// `models fetch` and `models install-local`: puts the publishers' detector models (and the seed
// ViT's files) into the models directory. Every model directory is assembled in a staging
// directory beside its final place and renamed into place only once complete and verified, so a
// failed or interrupted install never leaves a half-installed model behind.

import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FerError } from '../../core/errors.ts';
import {
  downloadableFamilies,
  publishedDetectorModels,
  type PublishedDetectorModel,
} from '../../inference/detectors/families/index.ts';
import { DETECTOR_SPEC_FILE } from '../../inference/detectors/spec.ts';
import { downloadFile, sha256File, type DownloadOptions, type DownloadProgress } from './download.ts';

/** The seed ViT, downloaded and converted (the detector families come from their registry). */
export const VIT_FER_FAMILY = 'vit-fer';
const VIT_FER_URL = 'https://huggingface.co/motheecreator/vit-Facial-Expression-Recognition/resolve/main';

/** What `models fetch` takes: every downloadable detector family, then the seed ViT. */
export const MODEL_FAMILIES: readonly string[] = [...downloadableFamilies().map((f) => f.name), VIT_FER_FAMILY];
/** A name from MODEL_FAMILIES (parseFamily checks it). */
export type ModelFamily = string;

/** The seed ViT's files (Hugging Face layout); sizes and hashes are not pinned: the repo may be updated. */
export const VIT_FER_FILES = ['config.json', 'preprocessor_config.json', 'model.safetensors'] as const;
export const VIT_FER_DIR_NAME = 'vit-fer';

export interface FetchOptions {
  readonly modelsDir: string;
  /** Mirror serving `${family}/${file}`; undefined = the publishers' URLs. */
  readonly baseUrl?: string | undefined;
  readonly retries: number;
  readonly retryBaseMs: number;
  readonly idleTimeoutMs: number;
  readonly onProgress?: (progress: DownloadProgress & { file: string }) => void;
  readonly onRetry?: DownloadOptions['onRetry'];
  /**
   * Turns a downloaded Hugging Face ViT (config.json, preprocessor_config.json, model.safetensors
   * in `sourceDir`) into a model directory at `targetDir` (the ViT builder). Required for vit-fer.
   */
  readonly convertVit?: (sourceDir: string, targetDir: string) => Promise<void>;
}

export interface InstalledModel {
  readonly name: string;
  readonly dir: string;
}

/** A file's URL: on the mirror `baseUrl` as `<family>/<file>`, else where its publisher put it. */
function fileUrl(family: ModelFamily, file: string, baseUrl: string | undefined): string {
  if (baseUrl !== undefined) return `${baseUrl.replace(/\/+$/, '')}/${family}/${file}`;
  if (family === VIT_FER_FAMILY) return `${VIT_FER_URL}/${file}`;
  const published = publishedDetectorModels(family).find((m) => m.file === file);
  const familyUrl = downloadableFamilies().find((f) => f.name === family)?.publisherUrl;
  return published?.url ?? `${familyUrl}/${file}`;
}

/** The downloadable detector families: what install-local installs by default. */
export function detectorFamilyNames(): string[] {
  return downloadableFamilies().map((f) => f.name);
}

export function parseFamily(name: string): ModelFamily {
  if (MODEL_FAMILIES.includes(name)) return name;
  throw new FerError('usage', `unknown model "${name}": choose one of ${MODEL_FAMILIES.join(', ')}`);
}

function stagingDir(modelsDir: string, name: string): string {
  return path.join(modelsDir, `.staging-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Replaces `target` with the complete `staging` directory (the previous version is removed after). */
async function commitDir(staging: string, target: string): Promise<void> {
  const old = `${target}.old-${randomBytes(4).toString('hex')}`;
  const existed = await stat(target).then(
    () => true,
    () => false,
  );
  if (existed) await rename(target, old);
  try {
    await rename(staging, target);
  } catch (error) {
    if (existed) await rename(old, target);
    throw error;
  }
  if (existed) await rm(old, { recursive: true, force: true });
}

/** Runs `fill(staging)`, then moves the staging directory into place; on failure removes it. */
async function installAtomically(
  modelsDir: string,
  name: string,
  fill: (staging: string) => Promise<void>,
): Promise<InstalledModel> {
  await mkdir(modelsDir, { recursive: true });
  const staging = stagingDir(modelsDir, name);
  await mkdir(staging);
  try {
    await fill(staging);
    const dir = path.join(modelsDir, name);
    await commitDir(staging, dir);
    return { name, dir };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function writeDetectorDir(
  staging: string,
  entry: PublishedDetectorModel,
  onnxSource: (dest: string) => Promise<void>,
): Promise<void> {
  await onnxSource(path.join(staging, entry.spec.model));
  await writeFile(
    path.join(staging, DETECTOR_SPEC_FILE),
    `${JSON.stringify({ ...entry.spec, publishedFile: entry.file, sha256: entry.sha256 }, null, 2)}\n`,
  );
}

/**
 * Downloads a family into the models directory. Partial downloads live in
 * `<modelsDir>/.downloads/` so that a later run resumes them.
 */
export async function fetchModels(family: ModelFamily, options: FetchOptions): Promise<InstalledModel[]> {
  const downloads = path.join(options.modelsDir, '.downloads');
  await mkdir(downloads, { recursive: true });
  const download = (file: string, dest: string, known?: { bytes: number; sha256: string }) =>
    downloadFile(fileUrl(family, file, options.baseUrl), dest, {
      expectedBytes: known?.bytes,
      sha256: known?.sha256,
      retries: options.retries,
      retryBaseMs: options.retryBaseMs,
      idleTimeoutMs: options.idleTimeoutMs,
      ...(options.onProgress ? { onProgress: (p: DownloadProgress) => options.onProgress!({ ...p, file }) } : {}),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    });

  if (family === VIT_FER_FAMILY) {
    const convert = options.convertVit;
    if (convert === undefined)
      throw new FerError(
        'unavailable',
        'vit-fer needs the ViT builder to convert the downloaded weights; none is available in this build',
      );
    return [
      await installAtomically(options.modelsDir, VIT_FER_DIR_NAME, async (staging) => {
        const source = path.join(downloads, `${VIT_FER_DIR_NAME}-hf`);
        await mkdir(source, { recursive: true });
        for (const file of VIT_FER_FILES) {
          const dest = path.join(source, file);
          const done = await stat(dest).then(
            (s) => s.isFile(),
            () => false,
          );
          if (!done) await download(file, dest);
        }
        await convert(source, staging);
        await rm(source, { recursive: true, force: true });
      }),
    ];
  }

  const installed: InstalledModel[] = [];
  for (const entry of publishedDetectorModels(family)) {
    installed.push(
      await installAtomically(options.modelsDir, entry.name, (staging) =>
        writeDetectorDir(staging, entry, async (dest) => {
          // Resumable across runs: the .part file stays in .downloads until complete.
          const cached = path.join(downloads, entry.file);
          await download(entry.file, cached, { bytes: entry.bytes, sha256: entry.sha256 });
          await rename(cached, dest);
        }),
      ),
    );
  }
  return installed;
}

/**
 * Installs detector families from a local copy laid out as `<sourceDir>/<family>/<published file>`
 * (e.g. ../shared/models), verifying each file's size and sha256 like a download.
 */
export async function installLocal(
  sourceDir: string,
  modelsDir: string,
  families: readonly ModelFamily[] = detectorFamilyNames(),
): Promise<InstalledModel[]> {
  const installed: InstalledModel[] = [];
  for (const family of families) {
    if (!detectorFamilyNames().includes(family)) {
      throw new FerError(
        'usage',
        `install-local installs detector models (${detectorFamilyNames().join(', ')}); build or fetch the ViT with "models build-vit" / "models fetch vit-fer"`,
      );
    }
    for (const entry of publishedDetectorModels(family)) {
      const source = path.join(sourceDir, family, entry.file);
      const info = await stat(source).catch(() => undefined);
      if (info === undefined)
        throw new FerError(
          'model_missing',
          `install-local: ${source} not found (expected ${sourceDir}/<family>/<published file name>)`,
        );
      installed.push(
        await installAtomically(modelsDir, entry.name, (staging) =>
          writeDetectorDir(staging, entry, async (dest) => {
            await copyFile(source, dest);
            const actual = await sha256File(dest);
            if (info.size !== entry.bytes || actual !== entry.sha256) {
              throw new FerError(
                'checksum_mismatch',
                `install-local: ${source} is not the published ${entry.file} (sha256 ${actual}, ${info.size} bytes; expected ${entry.sha256}, ${entry.bytes} bytes)`,
              );
            }
          }),
        ),
      );
    }
  }
  return installed;
}
