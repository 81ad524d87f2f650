// The sample photos @vladmandic/face-api ships (demo/sample1..6.jpg, several faces each): the
// demo's input and the face crops `models quantize` measures int8 against fp32 on, always there
// after `npm install`.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FerError } from '../../core/errors.ts';

/** face-api's demo photos, in order. */
export function faceApiSamplePhotos(): string[] {
  const packageJson = createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json');
  const demoDir = path.join(path.dirname(packageJson), 'demo');
  const photos = [1, 2, 3, 4, 5, 6].map((i) => path.join(demoDir, `sample${i}.jpg`)).filter((p) => existsSync(p));
  if (photos.length === 0)
    throw new FerError(
      'demo_input_missing',
      `no sample photos (sample1.jpg …) in ${demoDir}; is @vladmandic/face-api installed?`,
    );
  return photos;
}
