// The OpenAPI paths of a video's outputs: the viewer page, the annotated video and its signed
// link, and the results in every format (the format table in src/results/formats.ts).

import { RESULT_FORMAT_NAMES, RESULT_FORMATS } from '../results/formats.ts';
import { errorResponse, guarded, idParameter, MAX_SMOOTHING_WINDOW } from './openapi-common.ts';

export const resultPaths = {
  '/v1/videos/{id}/view': {
    get: {
      summary: 'A page to watch the video with its timeline',
      description:
        'HTML, open (it holds no data): the page fetches the result and the annotated video with the token from its URL fragment (#token=…). One row for the video and one per track; a cursor follows playback; a click seeks.',
      security: [],
      parameters: [idParameter],
      responses: {
        '200': { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
        '400': errorResponse('invalid_id'),
      },
    },
  },
  '/v1/videos/{id}/video': {
    get: {
      summary: 'The video, annotated with every face (or the source as it is)',
      description:
        "MP4 (H.264): the source re-encoded with each face's box, track and top expression, rendered on first request and kept until the video is deleted. Needs the source file, which uploads keep FER_UPLOAD_KEEP_SECONDS after their video finishes.",
      parameters: [
        idParameter,
        { name: 'annotated', in: 'query', required: false, schema: { type: 'boolean', default: true } },
        {
          name: 'access',
          in: 'query',
          required: false,
          schema: { type: 'string', maxLength: 512 },
          description: 'A signed link from /video-link, in place of the Authorization header (for <video> elements)',
        },
        {
          name: 'Range',
          in: 'header',
          required: false,
          schema: { type: 'string' },
          description: 'bytes=START-[END]: one range, answered 206',
        },
      ],
      responses: {
        '200': {
          description: 'The video',
          content: {
            'video/mp4': { schema: { type: 'string', format: 'binary' } },
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          },
        },
        '206': {
          description: 'The range asked for (Content-Range says which bytes of how many)',
          content: {
            'video/mp4': { schema: { type: 'string', format: 'binary' } },
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          },
        },
        '416': { description: 'The range starts past the end of the file (Content-Range: bytes */SIZE)' },
        '400': errorResponse('invalid_id'),
        '404': errorResponse('not_found (also: the source is no longer kept)'),
        '409': errorResponse('results_not_ready'),
        '507': errorResponse(
          'insufficient_storage: the annotated copy (about the size of its source) would take the upload volume under FER_UPLOAD_MIN_FREE_BYTES free',
        ),
        ...guarded,
      },
    },
  },
  '/v1/videos/{id}/video-link': {
    get: {
      summary: 'A signed link to the video, for players that cannot send the token',
      description:
        "The URL of /v1/videos/{id}/video with an `access` parameter standing in for the caller's token for MEDIA_LINK_SECONDS (an hour): what the viewer page gives its <video> element, which then streams it with Range requests. Without API tokens the plain URL.",
      parameters: [
        idParameter,
        { name: 'annotated', in: 'query', required: false, schema: { type: 'boolean', default: true } },
      ],
      responses: {
        '200': {
          description: 'The link',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['url', 'expiresAt'],
                properties: { url: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
              },
            },
          },
        },
        '400': errorResponse('invalid_id'),
        '404': errorResponse("not_found (also another token's video)"),
        ...guarded,
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
          description: RESULT_FORMATS.map(
            (f) => `${f.name}${f.name === 'json' ? ' (default)' : ''}: ${f.description}`,
          ).join('; '),
          schema: { type: 'string', enum: [...RESULT_FORMAT_NAMES], default: 'json' },
        },
        {
          name: 'smoothing',
          in: 'query',
          required: false,
          description:
            'Recompute the timeline segments with this moving-average window (frames; 1 = none) instead of the stored one',
          schema: { type: 'integer', minimum: 1, maximum: MAX_SMOOTHING_WINDOW },
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
        '404': errorResponse("not_found (also another token's video)"),
        ...guarded,
        '409': errorResponse('results_not_ready (still queued or processing), video_failed, video_cancelled'),
      },
    },
  },
} as const;
