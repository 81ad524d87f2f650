import { componentSchemas } from './openapi-schemas.ts';
import { errorResponse, guarded, idParameter, MAX_PAGE } from './openapi-common.ts';
import { resultPaths } from './openapi-result-paths.ts';
import { VIDEO_STATES } from './service.ts';

// OpenAPI 3.0 description of the HTTP API, served at /openapi.json — and the one source of what
// each route accepts: src/api/request-validation.ts turns its parameters and bodies into the
// routes' validation schemas. A test checks that every registered route appears here and that a
// standard validator accepts it; the README's "HTTP API" section follows it.

const submitOptions = {
  fps: {
    type: 'number',
    minimum: 0,
    exclusiveMinimum: true,
    maximum: 1000,
    description: 'Frames sampled per second of video (server default when absent)',
  },
  startSeconds: { type: 'number', minimum: 0, description: 'Seconds from the start where sampling starts' },
  endSeconds: {
    type: 'number',
    minimum: 0,
    exclusiveMinimum: true,
    description: 'Seconds from the start where sampling stops (> startSeconds)',
  },
  maxFrames: { type: 'integer', minimum: 1, description: 'Stop after this many sampled frames' },
  callbackUrl: {
    type: 'string',
    format: 'uri',
    pattern: '^https?://',
    maxLength: 2048,
    description: 'http(s) URL told (POST, JSON, signed with x-fer-signature) when the video completes or fails',
  },
};

export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'fer-stream',
    version: '1',
    description:
      'Facial expressions in videos: submit a video, follow its processing, fetch per-frame, per-track and per-video results.',
  },
  paths: {
    '/v1/videos': {
      post: {
        summary: 'Submit a video',
        description:
          'Either a multipart/form-data upload (one file part, streamed to the server’s upload directory, size-limited; options as form fields) ' +
          'or a JSON body naming a file inside the server’s input directory. ' +
          'With an Idempotency-Key header, a retry of the same request (same file bytes or path, same options) within 24 h answers the video the first attempt made (header Idempotent-Replayed: true) instead of queuing another; the same key with a different request is a 409.',
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
            description: 'Any unique string per intended submission (e.g. a UUID); kept 24 h per token',
          },
        ],
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['file'],
                additionalProperties: false,
                properties: { file: { type: 'string', format: 'binary' }, ...submitOptions },
              },
            },
            'application/json': {
              schema: {
                type: 'object',
                required: ['path'],
                additionalProperties: false,
                properties: {
                  path: {
                    type: 'string',
                    minLength: 1,
                    maxLength: 4096,
                    description: 'Relative to (or absolute inside) the input directory',
                  },
                  ...submitOptions,
                },
              },
            },
          },
        },
        responses: {
          '202': {
            description: 'Queued',
            headers: {
              Location: { schema: { type: 'string' }, description: 'URL of the video status' },
              'Idempotent-Replayed': {
                schema: { type: 'string', enum: ['true'] },
                description: 'Present when an earlier request with the same Idempotency-Key made this video',
              },
            },
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id'],
                  properties: { id: { type: 'string' }, status: { type: 'string' }, results: { type: 'string' } },
                },
              },
            },
          },
          '400': errorResponse('invalid_request, missing_file, input_not_found'),
          '403': errorResponse('path_outside_input_dir, path_submission_disabled'),
          '409': errorResponse(
            'idempotency_conflict: the Idempotency-Key was used with a different request, or its first request is still being submitted',
          ),
          '413': errorResponse('payload_too_large'),
          '415': errorResponse('unsupported_media_type'),
          '507': errorResponse(
            'insufficient_storage: the upload would take the upload volume under FER_UPLOAD_MIN_FREE_BYTES free, or the volume is full; nothing was kept',
          ),
          ...guarded,
        },
      },
      get: {
        summary: 'List videos, newest first',
        description:
          "With API tokens, only the videos submitted with the caller's token. Paged by a cursor: follow `next` until it is null.",
        parameters: [
          { name: 'state', in: 'query', required: false, schema: { type: 'string', enum: VIDEO_STATES } },
          {
            name: 'limit',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 50 },
          },
          {
            name: 'cursor',
            in: 'query',
            required: false,
            description: "From the previous page's `next`",
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'A page of videos',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['videos', 'next'],
                  properties: {
                    videos: { type: 'array', items: { $ref: '#/components/schemas/VideoStatus' } },
                    next: { type: 'string', nullable: true, description: 'URL of the next page; null on the last' },
                  },
                },
              },
            },
          },
          '400': errorResponse('invalid_request'),
          ...guarded,
        },
      },
    },
    '/v1/videos/{id}': {
      delete: {
        summary: 'Cancel and delete a video',
        description:
          'Any state: an open video is cancelled (its queued frame chunks dropped, their bytes given back to the frame budget), then its records, results and uploaded file are deleted.',
        parameters: [idParameter],
        responses: {
          '200': {
            description: 'Deleted',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id', 'deleted', 'cancelled'],
                  properties: {
                    id: { type: 'string' },
                    deleted: { type: 'boolean' },
                    cancelled: { type: 'boolean', description: 'It was still being processed' },
                  },
                },
              },
            },
          },
          '400': errorResponse('invalid_id'),
          '404': errorResponse("not_found (also another token's video)"),
          ...guarded,
        },
      },
      get: {
        summary: 'State and progress of a video',
        parameters: [idParameter],
        responses: {
          '200': {
            description: 'Status',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/VideoStatus' } } },
          },
          '400': errorResponse('invalid_id'),
          '404': errorResponse("not_found (also another token's video)"),
          ...guarded,
        },
      },
    },
    '/v1/videos/{id}/cancel': {
      post: {
        summary: 'Cancel a video, keeping its record',
        description:
          "An open video stops: its queued work is dropped and its frame bytes given back to the frame budget. Its status stays available (state `cancelled`, error code `cancelled`) for the results' retention period, and its end-of-video webhooks announce it (`video.failed`, code `cancelled`). DELETE removes a video altogether.",
        parameters: [idParameter],
        responses: {
          '200': {
            description: 'Cancelled: its status',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/VideoStatus' } } },
          },
          '400': errorResponse('invalid_id'),
          '404': errorResponse("not_found (also another token's video)"),
          '409': errorResponse('video_finished: it had already completed, failed or been cancelled'),
          ...guarded,
        },
      },
    },
    ...resultPaths,
    '/healthz': {
      get: {
        security: [],
        summary: 'Liveness: the process answers',
        responses: {
          '200': {
            description: 'Alive',
            content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string' } } } } },
          },
        },
      },
    },
    '/readyz': {
      get: {
        security: [],
        summary: 'Readiness: Redis is reachable; and whether producers and workers run',
        responses: {
          '200': {
            description:
              'Ready to take submissions. `workers` and `producers`: processes with a heartbeat within FER_SERVICE_SEEN_SECONDS; `warnings` says which role is missing (submissions would wait)',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    status: { type: 'string' },
                    workers: { type: 'integer' },
                    producers: { type: 'integer' },
                    warnings: { type: 'array', items: { type: 'string' } },
                  },
                },
              },
            },
          },
          '503': errorResponse('unavailable'),
        },
      },
    },
    '/openapi.json': {
      get: {
        security: [],
        summary: 'This description',
        responses: {
          '200': { description: 'OpenAPI 3 document', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
    },
  },
  // Every /v1 route needs a bearer token when the server has tokens (FER_API_TOKENS); the probes
  // and this document stay open (their `security: []`).
  security: [{ bearerToken: [] }],
  components: {
    securitySchemes: {
      bearerToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'A token from FER_API_TOKENS; each video belongs to the token that submitted it',
      },
    },
    responses: {
      Unauthorized: errorResponse('unauthorized: no token, or not a valid one'),
      RateLimited: errorResponse(
        'rate_limited: more requests than FER_API_RATE_LIMIT per minute for this token (Retry-After says when to come back)',
      ),
      Unavailable: errorResponse(
        'unavailable: Redis unreachable, slower than FER_API_REDIS_TIMEOUT_MS, or out of memory (maxmemory reached); the request had no effect',
      ),
    },
    schemas: componentSchemas,
  },
} as const;
