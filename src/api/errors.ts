import { ERROR_CATALOGUE, FerError, REQUEST_ERROR_CODES, type RequestErrorCode } from '../core/errors.ts';

export type { RequestErrorCode } from '../core/errors.ts';

// Every API error is `{"error": {"code", "message"}}` with a stable code from the one catalogue
// (src/core/errors.ts, which also gives its HTTP status); clients branch on `code`, people read
// `message`. The codes a request is answered with are the catalogue's `request` ones.

/** The codes the API answers with and their HTTP status (the OpenAPI enum, in order). */
export const ERROR_CODES = Object.fromEntries(
  REQUEST_ERROR_CODES.map((code) => [code, ERROR_CATALOGUE[code].http]),
) as {
  readonly [code in RequestErrorCode]: number;
};

export class ApiError extends FerError {
  readonly statusCode: number;
  constructor(code: RequestErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ApiError';
    this.statusCode = this.httpStatus;
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
