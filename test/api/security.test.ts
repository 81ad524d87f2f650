import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSafeListen, authenticate, isLoopbackHost, parseTokens } from '../../src/api/auth.ts';
import { createPipelineVideoService } from '../../src/api/pipeline-service.ts';
import { buildApiServer } from '../../src/api/server.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createPipeline, type Pipeline } from '../../src/pipeline/index.ts';
import { startProducer, type ProducerHandle } from '../../src/producer/index.ts';
import { CliProcesses } from '../helpers/cli-processes.ts';
import { redisUrl, testPrefix } from '../helpers/redis.ts';
import { generateTestVideo } from '../helpers/videos.ts';

// The API lets no one in: bearer tokens, videos owned by their token, refusal to listen on the
// network without tokens, timeouts for slow clients, a rate limit per token, and error bodies in
// our JSON format that never name server paths. The real pipeline service on the suite's Redis,
// a real producer for the hostile uploads, the real CLI for the start-up refusal.

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef01';
const { prefix, cleanup } = testPrefix(import.meta.url);
let tmp: string;
let inputDir: string;
let uploadDir: string;
let pipeline: Pipeline;
let producer: ProducerHandle;
let app: FastifyInstance;
let base: string;

const as = (token: string | undefined, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) },
});
const submitPath = (token: string | undefined, file: string) =>
  fetch(
    `${base}/v1/videos`,
    as(token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: file }),
    }),
  );
async function body(
  response: Response,
): Promise<{ http: number; error?: { code: string; message: string }; [k: string]: unknown }> {
  return { ...((await response.json()) as object), http: response.status };
}

/** Sends raw bytes on a fresh connection; resolves with everything the server sent back before closing it, and when. */
function raw(send: (socket: net.Socket) => void): Promise<{ text: string; ms: number }> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const started = Date.now();
    let text = '';
    const socket = net.connect(Number(url.port), url.hostname, () => send(socket));
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => resolve({ text, ms: Date.now() - started }));
    socket.on('error', () => undefined);
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-api-security-'));
  inputDir = path.join(tmp, 'input');
  uploadDir = path.join(tmp, 'uploads');
  await mkdir(inputDir, { recursive: true });
  generateTestVideo(path.join(inputDir, 'clip.mp4'), { seconds: 1 });
  await writeFile(
    path.join(inputDir, 'playlist.mp4'),
    `#EXTM3U\n#EXTINF:1.0,\n${path.join(inputDir, 'clip.mp4')}\n#EXT-X-ENDLIST\n`,
  );
  await writeFile(
    path.join(inputDir, 'concat.mp4'),
    `ffconcat version 1.0\nfile '${path.join(inputDir, 'clip.mp4')}'\n`,
  );
  const config = loadConfig({}, { pipeline: { chunkFrames: 4 } });
  pipeline = createPipeline({ redisUrl: redisUrl(), prefix, config: config.pipeline, failFast: true });
  producer = startProducer(pipeline);
  app = await buildApiServer({
    config: {
      uploadDir,
      inputDir,
      maxUploadBytes: 64 * 1024,
      maxJsonBytes: 4096,
      rateLimitPerMinute: 30,
      headersTimeoutMs: 1000,
      requestTimeoutMs: 1500,
      idleTimeoutMs: 5000,
      maxConnections: 50,
    },
    service: createPipelineVideoService(pipeline, { redisTimeoutMs: 1500 }),
    tokens: parseTokens([`alice:${ALICE}`, `bob:${BOB}`]),
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await producer?.close();
  await pipeline?.close();
  await cleanup();
  await rm(tmp, { recursive: true, force: true });
});

describe('tokens', () => {
  it('parses NAME:TOKEN and bare tokens, refuses short ones and duplicate names, compares without revealing which', () => {
    const tokens = parseTokens([`alice:${ALICE}`, BOB]);
    expect(tokens.map((t) => t.name)).toEqual(['alice', 'token-2']);
    expect(authenticate(`Bearer ${ALICE}`, tokens)).toBe('alice');
    expect(authenticate(`bearer ${BOB}`, tokens)).toBe('token-2');
    expect(authenticate(`Bearer ${ALICE.slice(0, -1)}x`, tokens)).toBeNull();
    expect(authenticate(ALICE, tokens)).toBeNull();
    expect(authenticate(undefined, tokens)).toBeNull();
    expect(() => parseTokens(['alice:short'])).toThrow(/entry 1 \(alice\): a token needs at least 16 characters/);
    expect(() => parseTokens([`a:${ALICE}`, `a:${BOB}`])).toThrow(/"a" is given twice/);
    // The message names the entry, never the token's text.
    expect(() => parseTokens(['x:tooshort123'])).not.toThrow(/tooshort123/);
  });

  it('without a token or with a wrong one: 401 unauthorized; probes and the API description stay open', async () => {
    const none = await fetch(`${base}/v1/videos/abc`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await body(none)).error?.code).toBe('unauthorized');
    expect((await body(await fetch(`${base}/v1/videos/abc`, as('wrong-token-0123456789abcdef')))).error?.code).toBe(
      'unauthorized',
    );
    expect((await body(await submitPath(undefined, 'clip.mp4'))).http).toBe(401);
    for (const open of ['/healthz', '/readyz', '/openapi.json'])
      expect((await fetch(`${base}${open}`)).status, open).toBe(200);
  });

  it('a video belongs to the token that submitted it: another token gets 404 for its status and results', async () => {
    const submitted = await body(await submitPath(ALICE, 'clip.mp4'));
    expect(submitted.http).toBe(202);
    const id = String(submitted.id);
    expect((await fetch(`${base}/v1/videos/${id}`, as(ALICE))).status).toBe(200);
    const other = await body(await fetch(`${base}/v1/videos/${id}`, as(BOB)));
    expect(other.http).toBe(404);
    expect(other.error?.code).toBe('not_found');
    expect((await fetch(`${base}/v1/videos/${id}/results`, as(BOB))).status).toBe(404);
    // A video submitted without a token (CLI) belongs to no token either.
    const { submitVideo } = await import('../../src/pipeline/index.ts');
    const { videoId } = await submitVideo(pipeline, { path: path.join(inputDir, 'clip.mp4') });
    expect((await fetch(`${base}/v1/videos/${videoId}`, as(ALICE))).status).toBe(404);
  });

  it('refuses to listen on a non-loopback address without tokens unless FER_API_AUTH=none', async () => {
    expect(isLoopbackHost('127.0.0.1') && isLoopbackHost('::1') && isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0') || isLoopbackHost('::') || isLoopbackHost('10.1.2.3')).toBe(false);
    expect(() => assertSafeListen('0.0.0.0', 'token', [])).toThrow(
      /refusing to serve the API on 0\.0\.0\.0 without authentication/,
    );
    expect(() => assertSafeListen('0.0.0.0', 'none', [])).not.toThrow();
    expect(() => assertSafeListen('127.0.0.1', 'token', [])).not.toThrow();

    const processes = new CliProcesses(100);
    const env = {
      ...process.env,
      REDIS_URL: redisUrl(),
      FER_REDIS_PREFIX: prefix,
      FER_METRICS_ENABLED: '0',
      CI: 'true',
      FER_API_TOKENS: '',
    };
    const refused = processes.start('api-open', ['api', '--host', '0.0.0.0', '--port', '0'], env);
    refused.stopped = true;
    expect(await refused.exit).toBe(1);
    expect(refused.output).toMatch(
      /refusing to serve the API on 0\.0\.0\.0 without authentication: set FER_API_TOKENS/,
    );
    const explicit = processes.start('api-none', ['api', '--host', '0.0.0.0', '--port', '0'], {
      ...env,
      FER_API_AUTH: 'none',
    });
    await processes.until(
      'the explicitly open API to listen',
      async () => (explicit.output.includes('"API listening"') ? true : undefined),
      60_000,
    );
    expect(explicit.output).toMatch(/"auth":"none \(FER_API_AUTH=none\)"/);
    expect(await processes.stopAll()).toEqual({ 'api-open': 1, 'api-none': 0 });
  });
});

describe('hostile files, by path and uploaded', () => {
  for (const name of ['playlist.mp4', 'concat.mp4']) {
    it(`${name} is accepted for probing, then fails with unsupported_container and no server path, by path and as an upload`, async () => {
      const byPath = await body(await submitPath(ALICE, name));
      const form = new FormData();
      form.append(
        'file',
        new Blob([await import('node:fs/promises').then((f) => f.readFile(path.join(inputDir, name)))]),
        name,
      );
      const uploaded = await body(await fetch(`${base}/v1/videos`, as(ALICE, { method: 'POST', body: form })));
      for (const submitted of [byPath, uploaded]) {
        expect(submitted.http).toBe(202);
        let status: Awaited<ReturnType<typeof body>> | undefined;
        for (let i = 0; i < 100; i++) {
          status = await body(await fetch(`${base}/v1/videos/${String(submitted.id)}`, as(ALICE)));
          if (status.state === 'failed' || status.state === 'completed') break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(status!.state).toBe('failed');
        const [error] = status!.errors as Array<{ code: string; message: string }>;
        expect(error!.code).toBe('unsupported_container');
        expect(error!.message).not.toContain(tmp);
      }
    });
  }

  it('protocol tricks in a path stay file names inside the input directory', async () => {
    for (const trick of [
      `concat:clip.mp4|clip.mp4`,
      'http://127.0.0.1:1/x.mp4',
      'file:clip.mp4',
      '../input/clip.mp4|x',
    ]) {
      const answer = await body(await submitPath(ALICE, trick));
      expect(answer.http, trick).toBe(400);
      expect(answer.error?.code).toBe('input_not_found');
    }
    const outside = await body(await submitPath(ALICE, 'file:/etc/passwd'));
    expect(outside.http).toBe(400);
  });
});

describe('slow and greedy clients', () => {
  it('a request body trickling in is cut by the request timeout, with our JSON error', async () => {
    const { text, ms } = await raw((socket) => {
      socket.write(
        `POST /v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"pa`,
      );
      const trickle = setInterval(() => socket.writable && socket.write(' '), 200);
      socket.on('close', () => clearInterval(trickle));
    });
    expect(ms).toBeLessThan(6000);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(text).toContain('"code":"request_timeout"');
  });

  it('headers that never end are cut by the header timeout', async () => {
    const { text, ms } = await raw((socket) => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      const trickle = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 200);
      socket.on('close', () => clearInterval(trickle));
    });
    expect(ms).toBeLessThan(6000);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a slow upload is cut too, and leaves no partial file; an oversize one is refused with 413', async () => {
    await raw((socket) => {
      const boundary = 'xyz';
      socket.write(
        `POST /v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 100000\r\n\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n`,
      );
      const trickle = setInterval(() => socket.writable && socket.write('0123456789'), 100);
      socket.on('close', () => clearInterval(trickle));
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const big = new FormData();
    big.append('file', new Blob([new Uint8Array(70 * 1024)]), 'big.mp4');
    const answer = await body(await fetch(`${base}/v1/videos`, as(ALICE, { method: 'POST', body: big })));
    expect(answer.http).toBe(413);
    expect(answer.error?.code).toBe('payload_too_large');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Only the uploads that were accepted (the hostile ones above) remain.
    const left = await readdir(uploadDir);
    expect(left.length).toBeLessThanOrEqual(2);
  });

  it('connections beyond FER_API_MAX_CONNECTIONS are dropped at once; one freed lets the next in', async () => {
    const limited = await buildApiServer({
      config: { uploadDir, maxUploadBytes: 1024, maxJsonBytes: 4096, maxConnections: 3 },
      service: createPipelineVideoService(pipeline, { redisTimeoutMs: 1500 }),
    });
    const url = new URL(await limited.listen({ host: '127.0.0.1', port: 0 }));
    const sockets: net.Socket[] = [];
    const connect = () =>
      new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(Number(url.port), url.hostname, () => resolve(socket));
        socket.once('error', reject);
      });
    /** What the server answers a GET /healthz on `socket`: its status line, or 'closed' if it hangs up first. */
    const ask = (socket: net.Socket) =>
      new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d) => {
          text += d.toString();
          if (text.includes('\r\n')) resolve(text.split('\r\n')[0]!);
        });
        socket.once('close', () => resolve(text ? text.split('\r\n')[0]! : 'closed'));
        socket.once('error', () => undefined);
        socket.write(`GET /healthz HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
      });
    try {
      // Three idle connections hold every slot (a slow-loris client's way of filling a server).
      for (let i = 0; i < 3; i++) sockets.push(await connect());
      await new Promise((resolve) => setTimeout(resolve, 100));
      const fourth = await connect();
      expect(await ask(fourth)).toBe('closed');
      sockets.shift()!.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const next = await connect();
      sockets.push(next);
      expect(await ask(next)).toBe('HTTP/1.1 200 OK');
    } finally {
      for (const socket of sockets) socket.destroy();
      await limited.close();
    }
  });

  it('each token has its own rate limit: 429 rate_limited in our format with Retry-After', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const response = await fetch(`${base}/v1/videos/nothing-${i}`, as(BOB));
      if (response.status === 429) limited = response;
      else await response.body?.cancel();
    }
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    const answer = await body(limited!);
    expect(answer.error?.code).toBe('rate_limited');
    expect(answer.error?.message).toMatch(/FER_API_RATE_LIMIT/);
    // Alice's budget is her own; probes are never limited.
    expect((await fetch(`${base}/v1/videos/nothing`, as(ALICE))).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('every error is ours: an overlong id, malformed JSON, an unknown route; none names a server path', async () => {
    const long = await body(await fetch(`${base}/v1/videos/${'a'.repeat(300)}`, as(ALICE)));
    expect(long.http).toBe(400);
    expect(long.error?.code).toBe('invalid_id');
    const malformed = await body(
      await fetch(
        `${base}/v1/videos`,
        as(ALICE, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"path":' }),
      ),
    );
    expect(malformed.http).toBe(400);
    expect(malformed.error?.code).toBe('invalid_request');
    const unknown = await body(await fetch(`${base}/nope`, as(ALICE)));
    expect(unknown.error?.code).toBe('not_found');
    for (const answer of [long, malformed, unknown]) expect(JSON.stringify(answer)).not.toContain(tmp);
  });
});
