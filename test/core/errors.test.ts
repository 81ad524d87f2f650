// The one error catalogue: every code has its HTTP status, exit code and meaning; the API's codes
// are the catalogue's `request` ones; docs/errors.md lists every code as the catalogue has it.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError, ERROR_CODES } from '../../src/api/errors.ts';
import { EXIT_CODES as CLI_EXIT_CODES } from '../../src/cli/command.ts';
import { ERROR_CATALOGUE, EXIT_CODES, FerError, isErrorCode, REQUEST_ERROR_CODES } from '../../src/core/errors.ts';
import { repoRoot } from '../helpers/cli-processes.ts';

/** The catalogue as docs/errors.md's table shows it. */
function catalogueTable(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(
    ([code, spec]) => `| \`${code}\` | ${spec.surface} | ${spec.http} | ${spec.exit} | ${spec.meaning} |`,
  );
  return ['| code | met by | HTTP | exit | meaning |', '| --- | --- | ---: | ---: | --- |', ...rows].join('\n');
}

describe('error catalogue', () => {
  it('gives every code a status, an exit code of the documented ones, and a meaning', () => {
    const exits = new Set<number>(Object.values(EXIT_CODES));
    for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(spec.http, code).toBeGreaterThanOrEqual(400);
      expect(spec.http, code).toBeLessThan(600);
      expect(exits.has(spec.exit), `${code}: exit ${spec.exit}`).toBe(true);
      expect(spec.exit, code).not.toBe(EXIT_CODES.ok);
      expect(spec.meaning.length, code).toBeGreaterThan(10);
    }
    expect(CLI_EXIT_CODES).toBe(EXIT_CODES);
  });

  it('makes the API answer exactly its request codes, each with the catalogue status', () => {
    expect(Object.keys(ERROR_CODES)).toEqual(REQUEST_ERROR_CODES);
    expect(REQUEST_ERROR_CODES).toContain('invalid_request');
    expect(REQUEST_ERROR_CODES).not.toContain('model_missing');
    const error = new ApiError('results_not_ready', 'not yet');
    expect([error.statusCode, error.httpStatus, error.exitCode]).toEqual([409, 409, EXIT_CODES.pending]);
  });

  it('carries the exit code and status of its code on every FerError', () => {
    expect(new FerError('usage', 'x').exitCode).toBe(EXIT_CODES.usage);
    expect(new FerError('redis_unavailable', 'x').exitCode).toBe(EXIT_CODES.unavailable);
    expect(new FerError('redis_unavailable', 'x').httpStatus).toBe(503);
    expect(new FerError('interrupted', 'x').exitCode).toBe(130);
    expect(new FerError('inference_failed', 'x').httpStatus).toBe(500);
    expect(new FerError('model_missing', 'x').exitCode).toBe(EXIT_CODES.failure);
    expect([isErrorCode('model_missing'), isErrorCode('ENOENT')]).toEqual([true, false]);
  });

  it('is listed whole in docs/errors.md', () => {
    const doc = readFileSync(path.join(repoRoot, 'docs/errors.md'), 'utf8');
    expect(doc, 'docs/errors.md: paste the table catalogueTable() prints (test/core/errors.test.ts)').toContain(
      catalogueTable(),
    );
  });
});
