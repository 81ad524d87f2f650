import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyClassifierDir } from '../inference/fixtures/tiny-classifier.ts';

// Runs the real CLI entry point (bin/fer-stream.js → tsx), which also proves the session threads'
// .mjs bootstrap works outside vitest.
const bin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'fer-stream.js');
const env = { ...process.env, FER_EXECUTION_PROVIDERS: 'cpu', FER_INTRA_OP_THREADS: '1', LOG_LEVEL: 'warn' };

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let tmp: string;
let model: string;
const file = (name: string) => path.join(tmp, name);
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-cli-classify-'));
  model = await writeTinyClassifierDir(file('model'));
  await sharp({ create: { width: 30, height: 20, channels: 3, background: { r: 250, g: 0, b: 0 } } }).png().toFile(file('red.png'));
  await sharp({ create: { width: 30, height: 20, channels: 3, background: { r: 0, g: 0, b: 250 } } }).jpeg().toFile(file('blue.jpg'));
  await writeFile(file('broken.jpg'), 'definitely not a jpeg');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('fer-stream classify', () => {
  it('prints the top labels per image; a bad image gets its own error and a non-zero exit code', async () => {
    const { code, stdout, stderr } = await cli(['classify', file('red.png'), file('broken.jpg'), file('blue.jpg'), '--model', model, '--top', '2']);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${file('red.png')}: angry 0\\.\\d{3}, \\w+ 0\\.\\d{3}$`));
    expect(lines[1]).toMatch(new RegExp(`^${file('blue.jpg')}: fear `));
    expect(stderr).toContain(`${file('broken.jpg')}: error: not an image`);
  });

  it('--json gives one document with labels, top labels and probabilities, and exit code 0 when all succeed', async () => {
    const { code, stdout } = await cli(['classify', file('blue.jpg'), '--model', model, '--json']);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.model).toMatchObject({ name: 'model', executionProvider: 'cpu', labels: ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'] });
    expect(doc.images).toHaveLength(1);
    expect(doc.images[0].label).toBe('fear');
    expect(doc.images[0].top).toHaveLength(3);
    const total = Object.values(doc.images[0].probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 6);
  });

  it('exits with a usage error without images, and with a failure for a missing model directory', async () => {
    expect((await cli(['classify'])).code).toBe(2);
    const missing = await cli(['classify', file('red.png'), '--model', file('absent')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/model directory not found/);
  });
});
