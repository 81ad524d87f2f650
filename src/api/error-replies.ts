// Every failure of a request answered in our format: `{error: {code, message}}` with a code from
// the catalogue (errors.ts) — Fastify's own errors, validation against the OpenAPI document,
// errors of ours, and what Node rejects before a request reaches Fastify.

import type { Socket } from 'node:net';
import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyRequest } from 'fastify';
import { FerError } from '../core/errors.ts';
import { ApiError, ERROR_CODES, errorBody, type RequestErrorCode as ErrorCode } from './errors.ts';
import { describeValidation } from './request-validation.ts';
import { isVolumeFull, volumeFull } from './upload-space.ts';

export function unsupportedMediaType(): ApiError {
  return new ApiError(
    'unsupported_media_type',
    'send multipart/form-data (an upload) or application/json ({"path": …})',
  );
}

/** A request the document does not allow: which part, what is wrong, in our codes. */
export function describeInvalidRequest(
  error: FastifyError,
  request: FastifyRequest,
): { status: number; code: ErrorCode; message: string } {
  const problems = describeValidation(error.validation as ErrorObject[] | undefined);
  switch (error.validationContext) {
    case 'params': {
      const id = String((request.params as { id?: string }).id ?? '');
      return {
        status: 400,
        code: 'invalid_id',
        message: `"${id.slice(0, 140)}" is not a video id (letters, digits, _ - . :, at most 128)`,
      };
    }
    case 'querystring': {
      const hint = request.routeOptions.config.queryHint;
      const code = request.routeOptions.config.queryCode ?? 'invalid_request';
      return { status: ERROR_CODES[code], code, message: `query: ${problems}${hint ? ` (${hint})` : ''}` };
    }
    default:
      return {
        status: 400,
        code: 'invalid_request',
        message: `expected a multipart upload or a JSON body {"path": "…", options}: ${problems}`,
      };
  }
}

/** Maps any error to status, stable code and message. */
export function describeError(
  error: Error & { code?: string; statusCode?: number },
  maxUploadBytes: number,
): { status: number; code: string; message: string } {
  if (error instanceof ApiError) return { status: error.statusCode, code: error.code, message: error.message };
  // Ours: the catalogue's status (a video's or a model's fault is the request's, 400; Redis out of
  // reach 503; a fault of ours 500).
  if (error instanceof FerError) return { status: error.httpStatus, code: error.code, message: error.message };
  if (isVolumeFull(error)) return describeError(volumeFull(error), maxUploadBytes);
  switch (error.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return {
        status: 413,
        code: 'payload_too_large',
        message: `upload larger than the limit of ${maxUploadBytes} bytes (FER_MAX_UPLOAD_BYTES)`,
      };
    case 'FST_FILES_LIMIT':
      return { status: 413, code: 'payload_too_large', message: 'one video file per request' };
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return { status: 413, code: 'payload_too_large', message: 'too many form fields' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'payload_too_large', message: 'JSON body too large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return describeError(unsupportedMediaType(), maxUploadBytes);
  }
  if (error.statusCode === 429) return { status: 429, code: 'rate_limited', message: error.message };
  if (error.statusCode === 408)
    return { status: 408, code: 'request_timeout', message: 'the request did not arrive in time' };
  if (error.statusCode === 503)
    return {
      status: 503,
      code: 'unavailable',
      message: 'the server is shutting down or a service it needs is unreachable; try again',
    };
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: 400, code: 'invalid_request', message: error.message };
  }
  return { status: 500, code: 'internal_error', message: 'internal error (logged on the server)' };
}

/**
 * Errors Node reports before a request reaches Fastify (header timeout, request timeout, malformed
 * HTTP, oversized headers), answered in our JSON format and the connection closed.
 */
export function writeClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message]: [ErrorCode, string] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [
          'request_timeout',
          'the request (headers or body) did not arrive in time (FER_API_HEADERS_TIMEOUT_MS, FER_API_REQUEST_TIMEOUT_MS)',
        ]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? ['headers_too_large', 'request headers too large']
        : ['invalid_request', 'malformed HTTP request'];
  const status = ERROR_CODES[code];
  const body = JSON.stringify(errorBody(code, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${code.replace(/_/g, ' ')}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
