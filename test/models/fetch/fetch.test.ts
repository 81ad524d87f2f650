// `models fetch` against a local HTTP server serving ../shared/models: the real download,
// resume, verification and install code runs; only the server is ours.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { publishedDetectorModels } from '../../../src/inference/detectors/families/index.ts';
import { parseDetectorSpec } from '../../../src/inference/detectors/spec.ts';
import { fetchModels, installLocal, type FetchOptions } from '../../../src/models/fetch/fetch.ts';
import { syntheticVitWeights, VIT_PRESETS, vitConfigToHf, writeSafetensors } from '../../../src/models/vit/index.ts';
import { describeWithShared, sharedPath } from '../../helpers/shared.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { convertVitWithInt8 } from '../../../src/models/quantize-dir.ts';
import { faceApiSamplePhotos } from '../../../src/models/faceapi/sample-photos.ts';

const DETECTOR_CATALOG = publishedDetectorModels();

interface Behaviour {
  /** Files (by name) whose first request is cut off after half the body. */
  cutFirstRequest: Set<string>;
  /** Files served with one byte flipped. */
  corrupt: Set<string>;
}

const requests: Array<{ url: string; range: string | undefined; status: number }> = [];
let behaviour: Behaviour;
/** Serves `vit-fer/…` from here: a tiny synthetic ViT in Hugging Face layout, standing in for the seed model. */
let vitSourceDir: string | undefined;

function startServer(): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    const name = path.basename(rel);
    let body: Buffer;
    try {
      if (rel.includes('..')) throw new Error('bad path');
      body = await readFile(
        rel.startsWith('vit-fer/') && vitSourceDir ? path.join(vitSourceDir, name) : sharedPath('models', rel),
      );
    } catch {
      requests.push({ url: rel, range: undefined, status: 404 });
      res.writeHead(404).end();
      return;
    }
    if (behaviour.corrupt.has(name)) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const status = range ? 206 : 200;
    requests.push({ url: rel, range: req.headers.range, status });
    res.writeHead(status, {
      'content-length': String(body.length - start),
      ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (behaviour.cutFirstRequest.has(name)) {
      behaviour.cutFirstRequest.delete(name);
      // Cut only once the client has had time to read what was sent: a reset while bytes still sit
      // unread in the client's socket discards them, and a loaded machine then resumes from 0.
      res.write(body.subarray(start, start + ((body.length - start) >> 1)), () =>
        setTimeout(() => res.socket?.destroy(), 500),
      );
      return;
    }
    res.end(body.subarray(start));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describeWithShared('models fetch from a local server', () => {
  let server: http.Server;
  let baseUrl: string;
  let modelsDir: string;
  const options = (): FetchOptions => ({ modelsDir, baseUrl, retries: 3, retryBaseMs: 10, idleTimeoutMs: 5_000 });

  beforeAll(async () => {
    server = await startServer();
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(async () => {
    behaviour = { cutFirstRequest: new Set(), corrupt: new Set() };
    requests.length = 0;
    modelsDir = await mkdtemp(path.join(os.tmpdir(), 'fer-fetch-'));
  });
  afterEach(async () => {
    await rm(modelsDir, { recursive: true, force: true });
  });

  /** The error a promise rejects with (fails the test if it resolves). */
  const failure = async (promise: Promise<unknown>): Promise<Error & { code?: string }> => {
    try {
      await promise;
    } catch (error) {
      return error as Error & { code?: string };
    }
    throw new Error('expected a failure');
  };

  /** Top-level entries of the models directory other than .downloads (which may keep partial files). */
  const installedEntries = async () => (await readdir(modelsDir)).filter((e) => e !== '.downloads').sort();

  it('installs both families: verified ONNX files and detector.json, nothing left over', async () => {
    const progress: number[] = [];
    const installed = [
      ...(await fetchModels('ultraface', { ...options(), onProgress: (p) => progress.push(p.receivedBytes) })),
      ...(await fetchModels('yunet', options())),
    ];
    expect(installed.map((m) => m.name).sort()).toEqual(DETECTOR_CATALOG.map((e) => e.name).sort());
    expect(await installedEntries()).toEqual(DETECTOR_CATALOG.map((e) => e.name).sort());
    expect(await readdir(path.join(modelsDir, '.downloads'))).toEqual([]);
    for (const entry of DETECTOR_CATALOG) {
      const dir = path.join(modelsDir, entry.name);
      const onnx = await readFile(path.join(dir, 'model.onnx'));
      expect(createHash('sha256').update(onnx).digest('hex')).toBe(entry.sha256);
      const spec = parseDetectorSpec(await readFile(path.join(dir, 'detector.json'), 'utf8'), entry.name);
      expect(spec).toMatchObject({ type: entry.family, inputWidth: entry.spec.inputWidth });
    }
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(DETECTOR_CATALOG.find((e) => e.name === 'ultraface-rfb-640')!.bytes);
  });

  it('checksum mismatch: clear error, nothing half-installed, corrupt data discarded', async () => {
    behaviour.corrupt.add('version-RFB-640.onnx');
    const error = await failure(fetchModels('ultraface', options()));
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('checksum_mismatch');
    expect(error.message).toMatch(/version-RFB-640\.onnx: sha256 [0-9a-f]{64} does not match the expected 8f4c6592/);
    // The 320 model (before it in the catalogue) was complete and is installed; the 640 is not, not even partly.
    expect(await installedEntries()).toEqual(['ultraface-rfb-320']);
    expect(await readdir(path.join(modelsDir, '.downloads'))).toEqual([]);
    // A checksum failure is not retried.
    expect(requests.filter((r) => r.url.endsWith('version-RFB-640.onnx'))).toHaveLength(1);
  });

  it('server down: clear error naming the URL and what to do, nothing installed', async () => {
    const down = await startServer();
    const port = (down.address() as AddressInfo).port;
    await new Promise<void>((resolve) => down.close(() => resolve()));
    const error = await failure(
      fetchModels('yunet', { ...options(), baseUrl: `http://127.0.0.1:${port}`, retries: 2 }),
    );
    expect(error.code).toBe('download_failed');
    expect(error.message).toContain(`http://127.0.0.1:${port}/yunet/face_detection_yunet_2023mar.onnx`);
    expect(error.message).toMatch(
      /connection refused \(gave up after 3 attempts; offline\?.*FER_MODELS_BASE_URL.*install-local/,
    );
    expect(await installedEntries()).toEqual([]);
  });

  it('404 is reported at once, without retries', async () => {
    const error = await failure(fetchModels('vit-fer', { ...options(), convertVit: async () => undefined }));
    expect(error.message).toMatch(/vit-fer\/config\.json: HTTP 404/);
    expect(requests).toHaveLength(1);
    expect(await installedEntries()).toEqual([]);
  });

  it('interrupted download: retried and resumed with an HTTP Range request from where it stopped', async () => {
    behaviour.cutFirstRequest.add('face_detection_yunet_2023mar.onnx');
    const retries: number[] = [];
    await fetchModels('yunet', { ...options(), onRetry: (e) => retries.push(e.resumeFrom) });
    const entry = DETECTOR_CATALOG.find((e) => e.name === 'yunet-2023mar')!;
    const hits = requests.filter((r) => r.url.endsWith(entry.file));
    expect(hits).toHaveLength(2);
    expect(hits[0]).toMatchObject({ range: undefined, status: 200 });
    expect(hits[1]!.status).toBe(206);
    const resumedAt = Number(/bytes=(\d+)-/.exec(hits[1]!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThan(entry.bytes);
    expect(retries).toEqual([resumedAt]);
    const onnx = await readFile(path.join(modelsDir, entry.name, 'model.onnx'));
    expect(createHash('sha256').update(onnx).digest('hex')).toBe(entry.sha256);
  });

  it('vit-fer: downloads the Hugging Face files and converts them with the ViT builder into a model directory', async () => {
    vitSourceDir = await mkdtemp(path.join(os.tmpdir(), 'fer-hf-vit-'));
    try {
      const config = VIT_PRESETS.tiny;
      await writeFile(path.join(vitSourceDir, 'config.json'), JSON.stringify(vitConfigToHf(config)));
      await writeFile(
        path.join(vitSourceDir, 'preprocessor_config.json'),
        JSON.stringify({
          do_resize: true,
          size: { height: 224, width: 224 },
          resample: 2,
          do_rescale: true,
          rescale_factor: 1 / 255,
          do_normalize: true,
          image_mean: [0.5, 0.5, 0.5],
          image_std: [0.5, 0.5, 0.5],
        }),
      );
      await writeSafetensors(
        path.join(vitSourceDir, 'model.safetensors'),
        [...syntheticVitWeights(config)].map(([name, t]) => ({ name, dims: t.dims, data: t.data })),
      );
      // As `models fetch vit-fer` does: converted, then int8 with its measured agreement.
      const inference = loadConfig({}, { inference: { executionProviders: ['cpu'], intraOpThreads: 1 } }).inference;
      const convertVit = (from: string, outDir: string) =>
        convertVitWithInt8(from, outDir, {
          photos: faceApiSamplePhotos(),
          modelsDir: `${modelsDir}-blazeface`,
          inference,
          cropMargin: 0.15,
        }).then(() => undefined);
      const installed = await fetchModels('vit-fer', { ...options(), convertVit });
      expect(installed.map((m) => m.name)).toEqual(['vit-fer']);
      expect((await readdir(path.join(modelsDir, 'vit-fer'))).sort()).toEqual(
        expect.arrayContaining(['config.json', 'onnx', 'preprocessor_config.json', 'quantization.json']),
      );
      expect((await readdir(path.join(modelsDir, 'vit-fer', 'onnx'))).sort()).toEqual([
        'model.onnx',
        'model_quantized.onnx',
      ]);
      expect(await installedEntries()).toEqual(['vit-fer']);
      expect(requests.map((r) => r.url).sort()).toEqual([
        'vit-fer/config.json',
        'vit-fer/model.safetensors',
        'vit-fer/preprocessor_config.json',
      ]);
    } finally {
      await rm(vitSourceDir, { recursive: true, force: true });
      vitSourceDir = undefined;
    }
  });

  it('install-local pre-populates the models directory from ../shared/models', async () => {
    const installed = await installLocal(sharedPath('models'), modelsDir);
    expect(installed).toHaveLength(DETECTOR_CATALOG.length);
    expect(await installedEntries()).toEqual(DETECTOR_CATALOG.map((e) => e.name).sort());
    await expect(installLocal(path.join(modelsDir, 'nowhere'), modelsDir)).rejects.toThrow(
      /nowhere\/ultraface\/version-RFB-320\.onnx not found/,
    );
  });
});
