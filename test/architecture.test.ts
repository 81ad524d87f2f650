import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Dependencies point one way: cli → app (assembles processes) → api → producer/worker →
// pipeline/results/models/evaluation → inference/metrics → config → core. A module may import its
// own top folder or a lower layer, never a higher one or a sibling of the same layer. (Import
// cycles inside a folder are caught by `npm run check:cycles`.)

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

const LAYER: Record<string, number> = {
  core: 0,
  config: 1,
  inference: 2,
  metrics: 2,
  results: 3,
  pipeline: 3,
  models: 3,
  evaluation: 3,
  producer: 4,
  worker: 4,
  api: 5,
  app: 6,
  cli: 7,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|mts|mjs|js)$/.test(name) ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ];
  return specifiers.map((m) => m[1]!);
}

const topFolder = (file: string) => path.relative(srcDir, file).split(path.sep)[0]!;

describe('architecture', () => {
  const files = sourceFiles(srcDir);

  it('knows the layer of every top folder under src/', () => {
    const folders = new Set(files.map(topFolder));
    for (const folder of folders)
      expect(LAYER, `src/${folder} has no layer in test/architecture.test.ts`).toHaveProperty(folder);
  });

  it('imports only downwards between top folders', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = topFolder(file);
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), spec);
        if (!target.startsWith(srcDir + path.sep)) continue;
        const to = topFolder(target);
        if (to !== from && !(LAYER[to]! < LAYER[from]!))
          violations.push(`${path.relative(srcDir, file)} → ${spec} (${from} may not import ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps every onnxruntime decision in src/inference/backend', () => {
    const offenders = files.filter(
      (file) =>
        importsOf(file).some((s) => s.startsWith('onnxruntime')) &&
        !path.relative(srcDir, file).startsWith(path.join('inference', 'backend')),
    );
    expect(offenders.map((f) => path.relative(srcDir, f))).toEqual([]);
  });

  it('types what crosses a boundary instead of forcing it: no `as unknown as` in src/', () => {
    // A double cast hides a wrong type; decode the value (typed codecs) or use the library's own type.
    const offenders = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, index) =>
          line.includes('as unknown as') ? [`${path.relative(srcDir, file)}:${index + 1}`] : [],
        ),
    );
    expect(offenders).toEqual([]);
  });

  it('reads environment variables only in src/config (elsewhere the whole environment is only passed on)', () => {
    const offenders = files
      .filter((file) => topFolder(file) !== 'config')
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .flatMap((line, index) =>
            /process\.env\.[A-Za-z_]|\benv\.[A-Z][A-Z0-9_]+\b|\benv\[['"`]/.test(line)
              ? [`${path.relative(srcDir, file)}:${index + 1}`]
              : [],
          ),
      );
    expect(offenders).toEqual([]);
  });
});
