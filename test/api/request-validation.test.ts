// The OpenAPI document is the one source of what routes accept: every documented operation's
// parameters and bodies compile to validators, with OpenAPI 3.0's boolean exclusive bounds and
// nullable translated, and unknown fields refused.
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/api/openapi.ts';
import { ajv, formValidator, routeSchema, toJsonSchema } from '../../src/api/request-validation.ts';

describe('request validation from the OpenAPI document', () => {
  it('translates OpenAPI 3.0 schema keywords to JSON Schema', () => {
    expect(toJsonSchema({ type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 5 })).toEqual({
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 5,
    });
    expect(toJsonSchema({ type: 'object', properties: { x: { type: 'string', nullable: true } } })).toEqual({
      type: 'object',
      properties: { x: { type: ['string', 'null'] } },
    });
  });

  it('every documented operation compiles; queries and bodies refuse what the document does not list', () => {
    for (const [path, operations] of Object.entries(openApiDocument.paths)) {
      for (const method of Object.keys(operations)) {
        const schema = routeSchema(path, method) as {
          params?: object;
          querystring?: object;
          body?: { content: Record<string, { schema: object }> };
        };
        for (const part of [schema.params, schema.querystring, schema.body?.content['application/json']?.schema])
          if (part) expect(() => ajv.compile(part), `${method} ${path}`).not.toThrow();
      }
    }
    const query = ajv.compile(routeSchema('/v1/videos/{id}/results', 'get').querystring as object);
    expect(query({ format: 'csv' })).toBe(true);
    expect(query({ format: 'xml' })).toBe(false);
    expect(query({ colour: 'red' })).toBe(false);
    const form = formValidator('/v1/videos', 'post');
    const fields: Record<string, unknown> = { fps: '2.5', maxFrames: '10', callbackUrl: 'https://example.com/hook' };
    expect(form(fields)).toBe(true);
    expect(fields).toEqual({ fps: 2.5, maxFrames: 10, callbackUrl: 'https://example.com/hook' });
    expect(form({ fps: '0' })).toBe(false);
    expect(form({ callbackUrl: 'ftp://example.com/x' })).toBe(false);
  });
});
