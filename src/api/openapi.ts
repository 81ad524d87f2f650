import { ERROR_CODES } from './errors.ts';

// OpenAPI 3.0 description of the HTTP API, served at /openapi.json — and the one source of what
// each route accepts: src/api/request-validation.ts turns its parameters and bodies into the
// routes' validation schemas. A test checks that every registered route appears here and that a
// standard validator accepts it; the README's "HTTP API" section follows it.

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'Video id returned by POST /v1/videos',
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' },
};

const submitOptions = {
  fps: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1000, description: 'Frames sampled per second of video (server default when absent)' },
  startSeconds: { type: 'number', minimum: 0, description: 'Seconds from the start where sampling starts' },
  endSeconds: { type: 'number', minimum: 0, exclusiveMinimum: true, description: 'Seconds from the start where sampling stops (> startSeconds)' },
  maxFrames: { type: 'integer', minimum: 1, description: 'Stop after this many sampled frames' },
  callbackUrl: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2048, description: 'http(s) URL told (POST, JSON, signed with x-fer-signature) when the video completes or fails' },
};

const segment = {
  type: 'object',
  required: ['kind', 'label', 'start', 'end', 'firstFrame', 'lastFrame', 'frames', 'meanProbability'],
  properties: {
    kind: { type: 'string', enum: ['expression', 'no_face', 'failed'] },
    label: { type: 'string', description: 'Expression label, or no_face / failed' },
    start: { type: 'number', description: 'Seconds: timestamp of the first frame' },
    end: { type: 'number', description: 'Seconds: timestamp of the next sampled frame (or last + one frame interval)' },
    firstFrame: { type: 'integer' },
    lastFrame: { type: 'integer' },
    frames: { type: 'integer' },
    meanProbability: { type: 'number', nullable: true },
  },
};

const distribution = {
  type: 'object',
  properties: {
    meanProbability: { type: 'object', additionalProperties: { type: 'number' }, description: 'label → mean probability over frames with a face' },
    frameShare: { type: 'object', additionalProperties: { type: 'number' }, description: 'label → share of frames with a face where it is on top' },
  },
};

const dominant = {
  type: 'object',
  nullable: true,
  properties: { label: { type: 'string' }, frameShare: { type: 'number' }, meanProbability: { type: 'number' } },
};

export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'fer-stream',
    version: '1',
    description: 'Facial expressions in videos: submit a video, follow its processing, fetch per-frame, per-track and per-video results.',
  },
  paths: {
    '/v1/videos': {
      post: {
        summary: 'Submit a video',
        description:
          'Either a multipart/form-data upload (one file part, streamed to the server’s upload directory, size-limited; options as form fields) ' +
          'or a JSON body naming a file inside the server’s input directory.',
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: { type: 'object', required: ['file'], additionalProperties: false, properties: { file: { type: 'string', format: 'binary' }, ...submitOptions } },
            },
            'application/json': {
              schema: {
                type: 'object',
                required: ['path'],
                additionalProperties: false,
                properties: { path: { type: 'string', minLength: 1, maxLength: 4096, description: 'Relative to (or absolute inside) the input directory' }, ...submitOptions },
              },
            },
          },
        },
        responses: {
          '202': {
            description: 'Queued',
            headers: { Location: { schema: { type: 'string' }, description: 'URL of the video status' } },
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
          '413': errorResponse('payload_too_large'),
          '415': errorResponse('unsupported_media_type'),
          '401': { $ref: '#/components/responses/Unauthorized' },
          '429': { $ref: '#/components/responses/RateLimited' },
          '503': { $ref: '#/components/responses/Unavailable' },
        },
      },
      get: {
        summary: 'List videos, newest first',
        description: 'With API tokens, only the videos submitted with the caller\'s token. Paged by a cursor: follow `next` until it is null.',
        parameters: [
          { name: 'state', in: 'query', required: false, schema: { type: 'string', enum: ['queued', 'probing', 'producing', 'processing', 'completed', 'failed'] } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
          { name: 'cursor', in: 'query', required: false, description: 'From the previous page\'s `next`', schema: { type: 'string' } },
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
          '401': { $ref: '#/components/responses/Unauthorized' },
          '429': { $ref: '#/components/responses/RateLimited' },
          '503': { $ref: '#/components/responses/Unavailable' },
        },
      },
    },
    '/v1/videos/{id}': {
      delete: {
        summary: 'Cancel and delete a video',
        description: 'Any state: an open video is cancelled (its queued frame chunks dropped, their bytes given back to the frame budget), then its records, results and uploaded file are deleted.',
        parameters: [idParameter],
        responses: {
          '200': {
            description: 'Deleted',
            content: {
              'application/json': {
                schema: { type: 'object', required: ['id', 'deleted', 'cancelled'], properties: { id: { type: 'string' }, deleted: { type: 'boolean' }, cancelled: { type: 'boolean', description: 'It was still being processed' } } },
              },
            },
          },
          '400': errorResponse('invalid_id'),
          '404': errorResponse('not_found (also another token\'s video)'),
          '401': { $ref: '#/components/responses/Unauthorized' },
          '429': { $ref: '#/components/responses/RateLimited' },
          '503': { $ref: '#/components/responses/Unavailable' },
        },
      },
      get: {
        summary: 'State and progress of a video',
        parameters: [idParameter],
        responses: {
          '200': { description: 'Status', content: { 'application/json': { schema: { $ref: '#/components/schemas/VideoStatus' } } } },
          '400': errorResponse('invalid_id'),
          '404': errorResponse('not_found (also another token\'s video)'),
          '401': { $ref: '#/components/responses/Unauthorized' },
          '429': { $ref: '#/components/responses/RateLimited' },
          '503': { $ref: '#/components/responses/Unavailable' },
        },
      },
    },
    '/v1/videos/{id}/view': {
      get: {
        summary: 'A page to watch the video with its timeline',
        description: 'HTML, open (it holds no data): the page fetches the result and the annotated video with the token from its URL fragment (#token=…). One row for the video and one per track; a cursor follows playback; a click seeks.',
        security: [],
        parameters: [idParameter],
        responses: { '200': { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } }, '400': errorResponse('invalid_id') },
      },
    },
    '/v1/videos/{id}/video': {
      get: {
        summary: 'The video, annotated with every face (or the source as it is)',
        description: 'MP4 (H.264): the source re-encoded with each face\'s box, track and top expression, rendered on first request and kept until the video is deleted. Needs the source file, which uploads keep only until processed.',
        parameters: [idParameter, { name: 'annotated', in: 'query', required: false, schema: { type: 'boolean', default: true } }],
        responses: {
          '200': { description: 'The video', content: { 'video/mp4': { schema: { type: 'string', format: 'binary' } }, 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          '400': errorResponse('invalid_id'),
          '404': errorResponse('not_found (also: the source is no longer kept)'),
          '409': errorResponse('results_not_ready'),
          '401': { $ref: '#/components/responses/Unauthorized' },
          '429': { $ref: '#/components/responses/RateLimited' },
          '503': { $ref: '#/components/responses/Unavailable' },
        },
      },
    },
    '/v1/videos/{id}/results': {
      get: {
        summary: 'Results of a completed video',
        parameters: [
          idParameter,
          {
            name: 'format',
            in: 'query',
            required: false,
            description: 'json (default): the per-video result; csv: one row per face per frame; tracks-csv: one row per track; svg / png: timeline chart',
            schema: { type: 'string', enum: ['json', 'csv', 'tracks-csv', 'svg', 'png'], default: 'json' },
          },
          {
            name: 'smoothing',
            in: 'query',
            required: false,
            description: 'Recompute the timeline segments with this moving-average window (frames; 1 = none) instead of the stored one',
            schema: { type: 'integer', minimum: 1, maximum: 101 },
          },
        ],
        responses: {
          '200': {
            description: 'Results',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/VideoResult' } },
              'text/csv': { schema: { type: 'string' } },
              'image/svg+xml': { schema: { type: 'string' } },
              'image/png': { schema: { type: 'string', format: 'binary' } },
            },
          },
          '400': errorResponse('invalid_id, invalid_format'),
          '404': errorResponse('not_found (also another token\'s video)'),
          '401': { $ref: '#/components/responses/Unauthorized' },
          '429': { $ref: '#/components/responses/RateLimited' },
          '503': { $ref: '#/components/responses/Unavailable' },
          '409': errorResponse('results_not_ready (still queued or processing), video_failed'),
        },
      },
    },
    '/healthz': {
      get: {
        security: [],
        summary: 'Liveness: the process answers',
        responses: { '200': { description: 'Alive', content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string' } } } } } } },
      },
    },
    '/readyz': {
      get: {
        security: [],
        summary: 'Readiness: Redis is reachable',
        responses: {
          '200': { description: 'Ready', content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string' } } } } } },
          '503': errorResponse('unavailable'),
        },
      },
    },
    '/openapi.json': {
      get: {
        security: [],
        summary: 'This description',
        responses: { '200': { description: 'OpenAPI 3 document', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
  },
  // Every /v1 route needs a bearer token when the server has tokens (FER_API_TOKENS); the probes
  // and this document stay open (their `security: []`).
  security: [{ bearerToken: [] }],
  components: {
    securitySchemes: {
      bearerToken: { type: 'http', scheme: 'bearer', description: 'A token from FER_API_TOKENS; each video belongs to the token that submitted it' },
    },
    responses: {
      Unauthorized: errorResponse('unauthorized: no token, or not a valid one'),
      RateLimited: errorResponse('rate_limited: more requests than FER_API_RATE_LIMIT per minute for this token (Retry-After says when to come back)'),
      Unavailable: errorResponse('unavailable: Redis unreachable or slower than FER_API_REDIS_TIMEOUT_MS; the request had no effect'),
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', enum: Object.keys(ERROR_CODES), description: 'Stable; clients branch on it' },
              message: { type: 'string', description: 'For people: what was wrong, which limit' },
            },
          },
        },
      },
      VideoStatus: {
        type: 'object',
        required: ['id', 'state', 'progress', 'errors'],
        properties: {
          id: { type: 'string' },
          state: { type: 'string', enum: ['queued', 'probing', 'producing', 'processing', 'completed', 'failed'] },
          name: { type: 'string', description: 'File name (the upload’s name or the path’s base name)' },
          progress: {
            type: 'object',
            properties: {
              framesExpected: { type: 'integer', nullable: true, description: 'From the probed duration; null before probing' },
              framesTotal: { type: 'integer', nullable: true, description: 'Exact, once frame extraction has finished' },
              framesDone: { type: 'integer' },
              framesFailed: { type: 'integer' },
              fraction: { type: 'number', nullable: true },
            },
          },
          errors: {
            type: 'array',
            description: 'Why the video failed (stable code + message); empty otherwise',
            items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
          },
          submittedAt: { type: 'string', format: 'date-time' },
          startedAt: { type: 'string', format: 'date-time' },
          completedAt: { type: 'string', format: 'date-time' },
          webhooks: {
            type: 'array',
            description: 'End-of-video notifications: per endpoint (the submission\'s callbackUrl, the operator\'s FER_WEBHOOK_URL) how delivery went',
            items: {
              type: 'object',
              required: ['target', 'state', 'attempts'],
              properties: {
                target: { type: 'string', enum: ['callback', 'configured'] },
                url: { type: 'string', description: 'The callbackUrl (not shown for the operator\'s endpoint)' },
                state: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
                attempts: { type: 'integer' },
                lastError: { type: 'string' },
                deliveredAt: { type: 'string', format: 'date-time' },
              },
            },
          },
        },
      },
      VideoResult: {
        type: 'object',
        description: 'See README "Results format" for every field',
        required: ['schemaVersion', 'videoId', 'labels', 'counts', 'segments', 'frames'],
        properties: {
          schemaVersion: { type: 'integer', enum: [1] },
          videoId: { type: 'string' },
          video: { type: 'object', description: 'Probe of the video file (duration, size, frame rate, rotation, codec …)' },
          model: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              labels: { type: 'array', items: { type: 'string' } },
              preprocessing: { type: 'object' },
              detector: { type: 'string', nullable: true },
            },
          },
          labels: { type: 'array', items: { type: 'string' }, description: 'Order of every probability array' },
          processing: { type: 'object', description: 'Options the video was processed with (fps, start/end, max frames …)' },
          aggregation: { type: 'object', properties: { smoothingWindow: { type: 'integer' }, frameInterval: { type: 'number' } } },
          timings: { type: 'object' },
          counts: {
            type: 'object',
            properties: Object.fromEntries(
              ['sampled', 'analysed', 'failed', 'withFace', 'withoutFace', 'faces', 'tracks', 'decodeErrors'].map((k) => [k, { type: 'integer' }]).concat([['faceVisibleShare', { type: 'number' }]]),
            ),
          },
          dominant,
          distribution,
          warnings: { type: 'array', items: { type: 'string' }, description: 'Decode damage, failed frames: how far to trust the result' },
          cuts: {
            type: 'array',
            description: 'Scene cuts: the first frame of each new shot (no track spans one)',
            items: { type: 'object', properties: { index: { type: 'integer' }, timestamp: { type: 'number' }, score: { type: 'number' } } },
          },
          segments: { type: 'array', items: segment },
          tracks: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                trackId: { type: 'integer' },
                firstTimestamp: { type: 'number' },
                lastTimestamp: { type: 'number' },
                frames: { type: 'integer' },
                distribution,
                dominant,
                segments: { type: 'array', items: segment },
                meanDetectorScore: { type: 'number', nullable: true },
              },
            },
          },
          frames: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                index: { type: 'integer' },
                timestamp: { type: 'number' },
                probabilities: { type: 'array', items: { type: 'number' }, nullable: true },
                label: { type: 'string', nullable: true },
                error: { type: 'string' },
                faces: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      box: {
                        type: 'object',
                        properties: { x: { type: 'number' }, y: { type: 'number' }, width: { type: 'number' }, height: { type: 'number' } },
                      },
                      detectorScore: { type: 'number', nullable: true },
                      landmarks: { type: 'array', items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 }, description: 'Detector keypoints in video pixels, where given' },
                      trackId: { type: 'integer', nullable: true },
                      probabilities: { type: 'array', items: { type: 'number' } },
                      label: { type: 'string' },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;
