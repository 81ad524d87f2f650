// The CLI runs compiled JavaScript, not TypeScript through tsx (which costs about a second of
// compiling and module hooks at every start, and again in every inference thread). Install
// scripts do not run here (.npmrc), so there is no build step at install: the first start after
// `npm install` or a source change compiles src/ with tsc (a few seconds, said once on stderr)
// into dist/<hash of the sources>/; later starts find it by the same hash. Where TypeScript's
// compiler is not installed (a production install without dev dependencies and no dist/ shipped),
// the caller falls back to tsx.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distDir = path.join(root, 'dist');

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? sourceFiles(full) : [full];
    });
}

/** Hash of every source file's path and content, and of the compiler settings. */
export function sourceHash() {
  const hash = createHash('sha256');
  for (const file of [
    ...sourceFiles(path.join(root, 'src')),
    path.join(root, 'tsconfig.json'),
    path.join(root, 'tsconfig.build.json'),
  ]) {
    hash.update(path.relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function tscPath() {
  try {
    return createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
}

/**
 * The compiled entry (dist/<hash>/cli/main.js) for the current sources, compiling it first where
 * needed; null when it cannot be compiled here (no TypeScript compiler installed).
 */
export function compiledEntry({ quiet = false } = {}) {
  const hash = sourceHash();
  const target = path.join(distDir, hash);
  const entry = path.join(target, 'cli', 'main.js');
  if (existsSync(entry)) return entry;
  const tsc = tscPath();
  if (tsc === null) return null;
  mkdirSync(distDir, { recursive: true });
  // Several processes may start at once (tests, `compose --scale`): one compiles, the others wait.
  const lock = path.join(distDir, `.compiling-${hash}`);
  let holder = false;
  try {
    mkdirSync(lock);
    holder = true;
  } catch {
    // A lock older than two minutes belongs to a process that died: compile ourselves.
    if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
    const deadline = Date.now() + 120_000;
    while (!existsSync(entry) && existsSync(lock) && Date.now() < deadline)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    if (existsSync(entry)) return entry;
  }
  try {
    if (!quiet) process.stderr.write('fer-stream: compiling the sources once (they changed or are new here)…\n');
    const staging = path.join(distDir, `.staging-${hash}-${process.pid}`);
    const run = spawnSync(
      process.execPath,
      [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', staging, '--noEmitOnError', 'false'],
      { cwd: root, encoding: 'utf8' },
    );
    if (!existsSync(path.join(staging, 'cli', 'main.js'))) {
      rmSync(staging, { recursive: true, force: true });
      throw new Error(`compiling fer-stream failed:\n${run.stdout}${run.stderr}`);
    }
    // Type errors do not stop the emit (the sources type-check in CI); they are not the user's to read.
    writeFileSync(path.join(staging, 'package.json'), JSON.stringify({ type: 'module' }));
    if (!existsSync(target)) renameSync(staging, target);
    else rmSync(staging, { recursive: true, force: true });
    pruneOldBuilds(hash);
    return entry;
  } finally {
    if (holder) rmSync(lock, { recursive: true, force: true });
  }
}

/** Keeps the newest three builds: a process started on an older one may still be running from it. */
function pruneOldBuilds(current) {
  const builds = readdirSync(distDir)
    .filter((name) => /^[0-9a-f]{16}$/.test(name) && name !== current)
    .map((name) => ({ name, mtime: statSync(path.join(distDir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of builds.slice(2)) rmSync(path.join(distDir, old.name), { recursive: true, force: true });
}

// `node bin/compile.js`: compile now (the Docker image and CI do this ahead of the first start).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const entry = compiledEntry({ quiet: true });
  if (entry === null) {
    process.stderr.write('TypeScript is not installed (npm install without --omit=dev)\n');
    process.exitCode = 1;
  } else process.stdout.write(`${path.relative(root, path.dirname(path.dirname(entry)))}\n`);
}
