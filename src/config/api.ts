import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { envList, int } from './env.ts';

/** The HTTP API (`fer-stream api`). Documented in docs/configuration.md and "HTTP API". */
export const apiSchema = z.object({
  host: z.string().min(1).default('0.0.0.0'),
  /** 0 = an ephemeral port chosen by the OS (logged). */
  port: int(0, 65_535).default(8080),
  /**
   * Where uploaded videos are streamed to. Producers read them from there, so with producers on
   * other machines this must be a shared volume mounted at the same path.
   */
  uploadDir: z.string().min(1).default(path.join(os.tmpdir(), 'fer-stream-uploads')),
  /** Largest accepted upload, bytes (default 2 GiB). */
  maxUploadBytes: int(1).default(2 * 1024 ** 3),
  /**
   * Directory whose files may be submitted by path (`{"path": …}`); paths resolving outside it
   * (`..`, absolute paths, symbolic links) are refused. Unset: submission by path is disabled.
   */
  inputDir: z.string().min(1).optional(),
  /** How often the API deletes uploaded files of finished (completed, failed, expired) videos, s; 0 = keep them. */
  uploadSweepSeconds: int(0, 86_400).default(60),
  /**
   * How long an uploaded file stays after its video finished, s: the viewer plays it and draws the annotated copy from
   * it.
   */
  uploadKeepSeconds: int(0, 365 * 86_400).default(86_400),
  /**
   * Free space an upload must leave on the upload volume, bytes (default 512 MiB): one that would
   * go under it is refused with 507 (before its body when its length is declared). 0 = only a full volume refuses.
   */
  uploadMinFreeBytes: int(0).default(512 * 1024 ** 2),
  /** Annotated copies rendered at once by one API process (each re-encodes a whole video); more wait their turn. */
  renderConcurrency: int(1, 64).default(2),
  /** Largest JSON request body, bytes. */
  maxJsonBytes: int(1).default(64 * 1024),

  // Who gets in (SECURITY.md). Tokens are `NAME:TOKEN` (or a bare TOKEN, named token-1, token-2, …).
  /** Bearer tokens allowed to use /v1; a video belongs to the token that submitted it. */
  tokens: envList(z.string().min(1)).default([]),
  /** `token`: /v1 needs a token (start refused on a non-loopback address without any); `none`: open, explicitly. */
  auth: z.enum(['token', 'none']).default('token'),
  /** Requests per minute per token (per client address without tokens); 0 = unlimited. */
  rateLimitPerMinute: int(0, 1_000_000).default(600),
  /** Time for a client to send the request headers, ms. */
  headersTimeoutMs: int(100, 3_600_000).default(10_000),
  /** Time for a whole request, body included (an upload must arrive within it), ms. */
  requestTimeoutMs: int(100, 86_400_000).default(600_000),
  /** A connection sending or receiving nothing for this long is closed, ms. */
  idleTimeoutMs: int(100, 3_600_000).default(30_000),
  /** Most open client connections; further ones are refused. */
  maxConnections: int(1, 1_000_000).default(512),
  /** Longest wait for Redis on one request before answering 503 `unavailable`, ms. */
  redisTimeoutMs: int(100, 60_000).default(1_500),
});

export type ApiConfig = z.infer<typeof apiSchema>;

export const apiEnv = {
  host: 'FER_API_HOST',
  port: 'FER_API_PORT',
  uploadDir: 'FER_UPLOAD_DIR',
  maxUploadBytes: 'FER_MAX_UPLOAD_BYTES',
  inputDir: 'FER_INPUT_DIR',
  maxJsonBytes: 'FER_API_MAX_JSON_BYTES',
  uploadSweepSeconds: 'FER_UPLOAD_SWEEP_SECONDS',
  uploadKeepSeconds: 'FER_UPLOAD_KEEP_SECONDS',
  uploadMinFreeBytes: 'FER_UPLOAD_MIN_FREE_BYTES',
  renderConcurrency: 'FER_API_RENDER_CONCURRENCY',
  tokens: 'FER_API_TOKENS',
  auth: 'FER_API_AUTH',
  rateLimitPerMinute: 'FER_API_RATE_LIMIT',
  headersTimeoutMs: 'FER_API_HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'FER_API_REQUEST_TIMEOUT_MS',
  idleTimeoutMs: 'FER_API_IDLE_TIMEOUT_MS',
  maxConnections: 'FER_API_MAX_CONNECTIONS',
  redisTimeoutMs: 'FER_API_REDIS_TIMEOUT_MS',
} as const;
