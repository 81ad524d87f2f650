import { FerError } from '../core/types.ts';

// Every API error is `{"error": {"code", "message"}}` with one of these stable codes (documented in
// the OpenAPI description and the README); clients branch on `code`, people read `message`.

export const ERROR_CODES = {
  invalid_request: 400,
  invalid_id: 400,
  invalid_format: 400,
  missing_file: 400,
  input_not_found: 400,
  path_submission_disabled: 403,
  path_outside_input_dir: 403,
  unauthorized: 401,
  not_found: 404,
  request_timeout: 408,
  results_not_ready: 409,
  video_failed: 409,
  video_cancelled: 409,
  video_finished: 409,
  idempotency_conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  rate_limited: 429,
  unavailable: 503,
  insufficient_storage: 507,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ApiError extends FerError {
  readonly statusCode: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ApiError';
    this.statusCode = ERROR_CODES[code];
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
