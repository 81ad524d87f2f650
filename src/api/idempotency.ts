// Idempotency-Key on POST /v1/videos (as Stripe's and other job APIs): a client that retries a
// submission after a timeout or a dropped connection sends the same key, and gets the video its
// first attempt made instead of a second one. The same key with a different request is a 409; a
// key whose first request is still being submitted is a 409 too (retry shortly). Keys are per
// caller (token name) and kept for IDEMPOTENCY_TTL_SECONDS.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ApiError } from './errors.ts';
import type { Caller, IdempotencyClaim, SubmitOptions } from './service.ts';

/** How long a key is remembered (24 h, as Stripe). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The header's value, checked; undefined when the request has none. */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0]! : header;
  if (!KEY_PATTERN.test(key))
    throw new ApiError('invalid_request', 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces');
  return key;
}

/** The key's scope: the caller's own (two tokens may use the same key for different videos). */
export function idempotencyScope(key: string, caller: Caller): string {
  return createHash('sha256')
    .update(`${caller ?? ''}\n${key}`)
    .digest('hex');
}

export interface SubmittedRequest {
  readonly path: string;
  readonly originalName?: string;
  readonly uploaded: boolean;
  readonly options: SubmitOptions;
  readonly callbackUrl?: string;
}

/** What makes two submissions "the same request": options, callback, name, and the file's bytes (uploads) or path. */
export async function submissionFingerprint(submitted: SubmittedRequest): Promise<string> {
  const content = submitted.uploaded ? await fileSha256(submitted.path) : `path:${submitted.path}`;
  const options = Object.fromEntries(Object.entries(submitted.options).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256')
    .update(
      JSON.stringify({
        options,
        callbackUrl: submitted.callbackUrl ?? null,
        name: submitted.originalName ?? null,
        content,
      }),
    )
    .digest('hex');
}

function fileSha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (data) => hash.update(data))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * The claim's outcome as an answer: a replay gives the earlier video's id; a conflict or a request in flight is a 409.
 */
export function replayedVideoId(claim: IdempotencyClaim): string | undefined {
  if (claim.state === 'replay') return claim.id;
  if (claim.state === 'conflict')
    throw new ApiError(
      'idempotency_conflict',
      'this Idempotency-Key was used with a different request (another file or other options); use a new key',
    );
  if (claim.state === 'in_progress')
    throw new ApiError(
      'idempotency_conflict',
      'a request with this Idempotency-Key is still being submitted; retry in a moment',
    );
  return undefined;
}
