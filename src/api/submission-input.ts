// What POST /v1/videos was sent, checked: an upload streamed to the upload directory under a name
// of our own (its form fields are the options), or a path that must resolve inside the input
// directory. Either way the options are validated against the OpenAPI document's schemas.

import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';
import { describeValidation, formValidator } from './request-validation.ts';
import type { SubmitOptions } from './service.ts';
import { ensureRoom, isVolumeFull, volumeFull, watchSpace, type UploadSpace } from './upload-space.ts';

/** Streams the one file of a multipart request to the upload directory; form fields are options. */
export async function receiveUpload(
  request: FastifyRequest,
  config: { readonly uploadDir: string },
  space: UploadSpace,
) {
  const fields: Record<string, string> = {};
  let file: { path: string; originalName: string } | undefined;
  // Refused before a byte is read when the declared length (file and form together) does not fit.
  const room = await ensureRoom(space, Number(request.headers['content-length'] ?? 0) || 0);
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      // Our own name: nothing of the client's file name reaches the file system.
      const target = path.join(config.uploadDir, `${randomUUID()}${safeExtension(part.filename)}`);
      file = { path: target, originalName: part.filename };
      await pipeline(part.file, watchSpace(space, room), createWriteStream(target, { flags: 'wx' })).catch(
        (error: unknown) => {
          throw isVolumeFull(error) ? volumeFull(error) : error;
        },
      );
    }
    if (file === undefined)
      throw new ApiError(
        'missing_file',
        'multipart request without a file part (send the video as a file field, e.g. -F file=@video.mp4)',
      );
    const size = (await stat(file.path)).size;
    if (size === 0) throw new ApiError('invalid_request', `uploaded file "${file.originalName}" is empty (0 bytes)`);
    return { path: file.path, originalName: file.originalName, uploaded: true, ...submitFields(validForm(fields)) };
  } catch (error) {
    if (file !== undefined) await rm(file.path, { force: true });
    throw error;
  } finally {
    room.release();
  }
}

function safeExtension(filename: string): string {
  const ext = path.extname(filename).toLowerCase();
  return /^\.[a-z0-9]{1,8}$/.test(ext) ? ext : '';
}

/**
 * `{"path": …}` (validated against the document): the file must resolve (symbolic links included) to a regular file
 * inside the input directory.
 */
export async function resolveInputPath(body: unknown, inputDir: string | undefined) {
  const { path: requested, ...fields } = body as { path: string } & Record<string, unknown>;
  if (inputDir === undefined)
    throw new ApiError(
      'path_submission_disabled',
      'submission by path is disabled: the server has no input directory (FER_INPUT_DIR)',
    );
  const root = await realpath(inputDir).catch(() => {
    // Its path stays in the server's log: error bodies never name server paths.
    throw new ApiError('unavailable', 'the input directory (FER_INPUT_DIR) is not accessible on the server');
  });
  const lexical = path.resolve(root, requested);
  if (!isInside(root, lexical))
    throw new ApiError('path_outside_input_dir', `path "${requested}" is outside the input directory`);
  const real = await realpath(lexical).catch(() => {
    throw new ApiError('input_not_found', `no file "${requested}" in the input directory`);
  });
  if (!isInside(root, real))
    throw new ApiError('path_outside_input_dir', `path "${requested}" leads outside the input directory`);
  if (!(await stat(real)).isFile()) throw new ApiError('input_not_found', `"${requested}" is not a regular file`);
  return { path: real, originalName: path.basename(requested), uploaded: false, ...submitFields(fields) };
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  // '' is the directory itself: inside, and then refused as not a regular file.
  return relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

const formFields = formValidator('/v1/videos', 'post');

/** Multipart form fields, coerced and checked against the document's multipart schema. */
function validForm(fields: Record<string, string>): Record<string, unknown> {
  const coerced: Record<string, unknown> = { ...fields };
  if (!formFields(coerced)) throw new ApiError('invalid_request', `options: ${describeValidation(formFields.errors)}`);
  return coerced;
}

/** Validated fields → submission options and callback; the one rule a schema cannot say is checked here. */
function submitFields(fields: Record<string, unknown>): { options: SubmitOptions; callbackUrl?: string } {
  const { callbackUrl, ...options } = fields as SubmitOptions & { callbackUrl?: string };
  if (
    options.startSeconds !== undefined &&
    options.endSeconds !== undefined &&
    options.endSeconds <= options.startSeconds
  ) {
    throw new ApiError('invalid_request', 'options: endSeconds must be greater than startSeconds');
  }
  return { options, ...(callbackUrl ? { callbackUrl } : {}) };
}
