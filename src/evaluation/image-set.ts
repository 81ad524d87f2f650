// The images a command runs over, listed lazily so that a folder of 100,000 files costs one
// directory entry at a time, never an array of decoded pixels:
//   - an image file;
//   - a folder, walked recursively in name order (labelled: the label is the name of the folder
//     directly under the given one, `DIR/happy/x.jpg` → happy, as torchvision's ImageFolder);
//   - a CSV of `path,label` rows (a header row is optional; paths relative to the CSV's folder).

import { createReadStream } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { FerError } from '../core/errors.ts';

export interface ImageEntry {
  readonly path: string;
  /** The ground-truth label as written (folder name or CSV cell); absent for unlabelled inputs. */
  readonly label?: string;
}

/** Extensions of the image files a folder walk picks up (others are skipped without a word). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
  '.heic',
  '.heif',
]);

const isImageName = (name: string) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());

async function* walk(dir: string): AsyncGenerator<string> {
  // Sorted per folder: the same folder gives the same order (and the same report) on every run.
  const names: Array<{ name: string; isDir: boolean }> = [];
  for await (const entry of await opendir(dir)) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) names.push({ name: entry.name, isDir: true });
    else if ((entry.isFile() || entry.isSymbolicLink()) && isImageName(entry.name))
      names.push({ name: entry.name, isDir: false });
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, isDir } of names) {
    const full = path.join(dir, name);
    if (isDir) yield* walk(full);
    else yield full;
  }
}

/** Splits one CSV line (RFC 4180 quoting) into cells. */
export function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells.map((s) => s.trim());
}

async function* csvRows(file: string): AsyncGenerator<ImageEntry> {
  const base = path.dirname(file);
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    const [imagePath, label] = csvCells(line.replace(/^\uFEFF/, ''));
    if (lineNo === 1 && imagePath?.toLowerCase() === 'path') continue; // header
    if (!imagePath || !label)
      throw new FerError('csv_invalid', `${file} line ${lineNo}: expected "path,label", got "${line.slice(0, 120)}"`);
    yield { path: path.resolve(base, imagePath), label };
  }
}

/**
 * The images under `inputs` (files, folders, CSVs), in order. With `labelled`, every image needs a
 * label: a folder's images take their top sub-folder's name, a CSV gives its own, a bare file is
 * refused. Missing inputs throw before anything is yielded for them.
 */
export async function* listImages(
  inputs: readonly string[],
  options: { labelled: boolean },
): AsyncGenerator<ImageEntry> {
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (info === undefined) {
      // A missing file is reported per image by the reader (its own error line); a labelled run needs the set itself.
      if (options.labelled) throw new FerError('input_missing', `${input}: no such file or folder`);
      yield { path: input };
      continue;
    }
    if (info.isDirectory()) {
      for await (const file of walk(input)) {
        if (!options.labelled) {
          yield { path: file };
          continue;
        }
        const [top, ...rest] = path.relative(input, file).split(path.sep);
        if (rest.length === 0)
          throw new FerError(
            'label_missing',
            `${file}: a labelled folder holds one sub-folder per label (LABEL/*.jpg); this image lies directly in ${input}`,
          );
        yield { path: file, label: top! };
      }
    } else if (path.extname(input).toLowerCase() === '.csv') {
      yield* csvRows(input);
    } else if (options.labelled) {
      throw new FerError(
        'label_missing',
        `${input}: a single image has no label; give a folder of LABEL/ sub-folders or a CSV of path,label`,
      );
    } else {
      yield { path: input };
    }
  }
}
