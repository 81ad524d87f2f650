import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { int } from './env.ts';

/** The HTTP API (`fer-stream api`). Documented in README "Configuration" and "HTTP API". */
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
  /** Largest JSON request body, bytes. */
  maxJsonBytes: int(1).default(64 * 1024),
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
} as const;
