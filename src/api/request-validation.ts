// Request validation from the OpenAPI description: the document in openapi.ts is the one source
// of what each route accepts. For a route, its path/query parameters and JSON body schema become
// fastify's route schema (validated by one Ajv instance), and the multipart form fields are
// checked against the same document's multipart schema. OpenAPI 3.0's few differences from the
// JSON Schema Ajv speaks (boolean exclusiveMinimum/Maximum) are translated here; unknown fields
// are refused (additionalProperties: false), as clients' typos must not pass silently.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from './openapi.ts';

type Schema = Record<string, unknown>;
type Operation = {
  parameters?: ReadonlyArray<{ name: string; in: string; required?: boolean; schema: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
};

// ajv-formats is CommonJS: Node's import gives its module.exports, typed as the module; the
// plugin is also its own `default` property, which every interop (Node, vitest) reaches.
const addFormats = addFormatsModule.default;

/** One Ajv for every route and the form fields: coerces query strings and form fields to the documented types. */
export const ajv = new Ajv({
  coerceTypes: 'array',
  useDefaults: true,
  removeAdditional: false,
  allErrors: true,
  strict: false,
});
addFormats(ajv);

/** OpenAPI 3.0 Schema Object → JSON Schema for Ajv (recursively). */
export function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) out[key] = toJsonSchema(value);
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (out[flag] === true) {
      out[flag] = out[bound];
      delete out[bound];
    } else if (out[flag] === false) {
      delete out[flag];
    }
  }
  if (out.nullable === true && typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    delete out.nullable;
  }
  return out;
}

function operation(path: string, method: string): Operation {
  const op = (openApiDocument.paths as Record<string, Record<string, Operation>>)[path]?.[method];
  if (!op) throw new Error(`no OpenAPI operation ${method.toUpperCase()} ${path}`);
  return op;
}

function parametersSchema(op: Operation, where: 'path' | 'query'): Schema | undefined {
  const parameters = (op.parameters ?? []).filter((p) => p.in === where);
  if (parameters.length === 0) return undefined;
  return {
    type: 'object',
    properties: Object.fromEntries(parameters.map((p) => [p.name, toJsonSchema(p.schema)])),
    required: parameters.filter((p) => p.required).map((p) => p.name),
    additionalProperties: false,
  };
}

/** fastify's route `schema` for the documented operation. */
export function routeSchema(path: string, method: string): Schema {
  const op = operation(path, method);
  const params = parametersSchema(op, 'path');
  const querystring = parametersSchema(op, 'query');
  const json = op.requestBody?.content['application/json']?.schema;
  return {
    ...(params ? { params } : {}),
    ...(querystring ? { querystring } : {}),
    // Only JSON bodies are validated by fastify; multipart fields go through formValidator.
    ...(json ? { body: { content: { 'application/json': { schema: toJsonSchema(json) } } } } : {}),
  };
}

/** The documented multipart form fields of an operation (the file part aside), as a validator. */
export function formValidator(path: string, method: string): ValidateFunction {
  const schema = operation(path, method).requestBody?.content['multipart/form-data']?.schema as
    { properties: Record<string, unknown>; additionalProperties?: boolean } | undefined;
  if (!schema) throw new Error(`no multipart body documented for ${method.toUpperCase()} ${path}`);
  const { file: _file, ...fields } = schema.properties;
  return ajv.compile(toJsonSchema({ type: 'object', properties: fields, additionalProperties: false }) as Schema);
}

/** Ajv's errors as one line: "fps: must be > 0; colour: unknown field". */
export function describeValidation(errors: readonly ErrorObject[] | null | undefined, prefix = ''): string {
  return (errors ?? [])
    .map((e) => {
      const field = [prefix, e.instancePath.replace(/^\//, '').replace(/\//g, '.')].filter(Boolean).join('.');
      if (e.keyword === 'additionalProperties')
        return `${[field, String(e.params.additionalProperty)].filter(Boolean).join('.')}: unknown field`;
      if (e.keyword === 'enum') return `${field}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
      return `${field || 'body'}: ${e.message}`;
    })
    .join('; ');
}
