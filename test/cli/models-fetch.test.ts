// `fer-stream models fetch` / `install-local` through the real CLI entry point, against a local
// static server over ../shared/models.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithShared, sharedPath } from '../helpers/shared.ts';
import { runCli } from '../helpers/cli-processes.ts';

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(args, { ...process.env, LOG_LEVEL: 'warn', ...env });

describeWithShared('fer-stream models fetch / install-local', () => {
  let server: http.Server;
  let baseUrl: string;
  let tmp: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-cli-fetch-'));
    server = http.createServer(async (req, res) => {
      const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      try {
        if (rel.includes('..')) throw new Error('bad path');
        res.end(await readFile(sharedPath('models', rel)));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(tmp, { recursive: true, force: true });
  });

  it('fetch installs from the mirror given by FER_MODELS_BASE_URL and says where', async () => {
    const modelsDir = path.join(tmp, 'fetched');
    const out = await cli(['models', 'fetch', 'yunet', '--models-dir', modelsDir], { FER_MODELS_BASE_URL: baseUrl });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`installed yunet-2023mar in ${path.join(modelsDir, 'yunet-2023mar')}`);
    expect(out.stdout).toContain('installed yunet-s-dynamic');
    expect((await readdir(path.join(modelsDir, 'yunet-s-dynamic'))).sort()).toEqual(['detector.json', 'model.onnx']);
  });

  it('offline: exit code 1 and a message that says what failed and what to do', async () => {
    // A port that was just free: nothing listens there.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const out = await cli(
      [
        'models',
        'fetch',
        'ultraface',
        '--models-dir',
        path.join(tmp, 'offline'),
        '--base-url',
        `http://127.0.0.1:${port}`,
      ],
      { FER_FETCH_RETRIES: '1', FER_FETCH_RETRY_BASE_MS: '10' },
    );
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(
      `cannot download http://127.0.0.1:${port}/ultraface/version-RFB-320.onnx: connection refused (gave up after 2 attempts; offline?`,
    );
    expect(out.stderr).toMatch(/retry 1 in 0\.0 s/);
    expect(out.stderr).toContain('install-local');
  });

  it('an unknown model name is a usage error (exit 2)', async () => {
    const out = await cli(['models', 'fetch', 'resnet']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('unknown model "resnet": choose one of ultraface, yunet, vit-fer');
  });

  it('install-local pre-populates the models directory from ../shared/models', async () => {
    const modelsDir = path.join(tmp, 'local');
    const out = await cli(['models', 'install-local', sharedPath('models'), 'ultraface', '--models-dir', modelsDir]);
    expect(out.code, out.stderr).toBe(0);
    expect((await readdir(modelsDir)).filter((e) => !e.startsWith('.')).sort()).toEqual([
      'ultraface-rfb-320',
      'ultraface-rfb-640',
    ]);
  });
});
