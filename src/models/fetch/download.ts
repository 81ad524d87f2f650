// One file over HTTP(S), robustly: partial data is kept in a `.part` file and resumed with an HTTP
// Range request after a dropped connection (or a later run); transient failures are retried with
// exponential backoff; the finished file is checked against its known size and sha256 before it is
// handed over. Nothing here knows about models.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerError } from '../../core/errors.ts';

export interface DownloadProgress {
  readonly url: string;
  readonly receivedBytes: number;
  /** Undefined when neither the server nor the caller knows the size. */
  readonly totalBytes: number | undefined;
}

export interface DownloadOptions {
  readonly expectedBytes?: number | undefined;
  readonly sha256?: string | undefined;
  /** Attempts after the first one. */
  readonly retries: number;
  /** First backoff; doubles after each failed attempt. */
  readonly retryBaseMs: number;
  /** Abort an attempt when no data arrived for this long. */
  readonly idleTimeoutMs: number;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Called before each retry, for logs. */
  readonly onRetry?: (event: { attempt: number; error: Error; delayMs: number; resumeFrom: number }) => void;
}

/** A failure not worth retrying (404, checksum mismatch, …). */
class PermanentError extends FerError {}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

async function sizeOf(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? 0;
}

/** Explains a fetch() failure in words a user can act on (fetch says only "fetch failed"). */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (error as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found (offline, or no DNS)';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection dropped';
  if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError')
    return 'no data received in time';
  return cause?.message ?? (error as Error).message;
}

/**
 * Downloads `url` to `dest` (atomically: `dest` appears only complete and verified). Partial data
 * stays in `dest.part` between attempts and between runs.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions): Promise<void> {
  const part = `${dest}.part`;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    if (attempt > 0) {
      const delayMs = options.retryBaseMs * 2 ** (attempt - 1);
      options.onRetry?.({ attempt, error: lastError!, delayMs, resumeFrom: await sizeOf(part) });
      await sleep(delayMs);
    }
    try {
      await attemptDownload(url, part, options);
      await verify(part, url, options);
      await rename(part, dest);
      return;
    } catch (error) {
      if (error instanceof PermanentError) {
        throw new FerError(error.code, error.message, { cause: error.cause });
      }
      lastError = error as Error;
    }
  }
  throw new FerError(
    'download_failed',
    `cannot download ${url}: ${lastError?.message ?? 'unknown error'} (gave up after ${options.retries + 1} attempts; offline? ` +
      'set FER_MODELS_BASE_URL to a mirror, or install from a local copy with "fer-stream models install-local DIR")',
    { cause: lastError },
  );
}

async function attemptDownload(url: string, part: string, options: DownloadOptions): Promise<void> {
  let have = await sizeOf(part);
  if (options.expectedBytes !== undefined && have > options.expectedBytes) {
    await rm(part, { force: true });
    have = 0;
  }
  if (options.expectedBytes !== undefined && have === options.expectedBytes) return;

  const controller = new AbortController();
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () => controller.abort(new DOMException('no data received in time', 'TimeoutError')),
      options.idleTimeoutMs,
    );
  };
  arm();
  let response: Response;
  try {
    response = await fetch(url, {
      headers: have > 0 ? { Range: `bytes=${have}-` } : {},
      signal: controller.signal,
      redirect: 'follow',
    });
  } catch (error) {
    clearTimeout(idle);
    throw new Error(describeNetworkError(error), { cause: error });
  }
  try {
    if (response.status === 404 || response.status === 401 || response.status === 403 || response.status === 410) {
      throw new PermanentError(
        'download_failed',
        `cannot download ${url}: HTTP ${response.status} ${response.statusText}`,
      );
    }
    if (response.status === 416 && have > 0) {
      // Our partial file is not a prefix the server recognises: start over next attempt.
      await rm(part, { force: true });
      throw new Error('server refused to resume (HTTP 416)');
    }
    if (response.status !== 200 && response.status !== 206)
      throw new Error(`HTTP ${response.status} ${response.statusText}`);
    if (response.body === null) throw new Error('empty response body');
    const resumed = response.status === 206;
    if (!resumed) have = 0; // The server ignored the Range header: the body is the whole file.
    const length = Number(response.headers.get('content-length') ?? NaN);
    const totalBytes = options.expectedBytes ?? (Number.isFinite(length) ? have + length : undefined);
    let received = have;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        arm();
        received += chunk.length;
        options.onProgress?.({ url, receivedBytes: received, totalBytes });
        done(null, chunk);
      },
    });
    await pipeline(
      Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
      meter,
      createWriteStream(part, { flags: resumed ? 'a' : 'w' }),
    );
  } catch (error) {
    if (error instanceof PermanentError) throw error;
    throw new Error(describeNetworkError(error), { cause: error });
  } finally {
    clearTimeout(idle);
  }
}

async function verify(part: string, url: string, options: DownloadOptions): Promise<void> {
  const size = await sizeOf(part);
  if (options.expectedBytes !== undefined && size !== options.expectedBytes) {
    if (size > options.expectedBytes) {
      await rm(part, { force: true });
      throw new PermanentError(
        'checksum_mismatch',
        `${url}: got ${size} bytes, expected ${options.expectedBytes}; the file was discarded`,
      );
    }
    throw new Error(`transfer ended early at ${size} of ${options.expectedBytes} bytes`);
  }
  if (options.sha256 !== undefined) {
    const actual = await sha256File(part);
    if (actual !== options.sha256.toLowerCase()) {
      await rm(part, { force: true });
      throw new PermanentError(
        'checksum_mismatch',
        `${url}: sha256 ${actual} does not match the expected ${options.sha256}; the file was discarded and nothing was installed`,
      );
    }
  }
}
