// Parts the OpenAPI paths share (openapi.ts, openapi-result-paths.ts): error responses, the
// responses every /v1 route may give, the video id parameter, and the limits clients may ask for.

export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** Largest page of GET /v1/videos. */
export const MAX_PAGE = 200;
/** Largest smoothing window (frames) a client may ask the results for. */
export const MAX_SMOOTHING_WINDOW = 101;

/** What every /v1 route may also answer: no valid token, too many requests, Redis unavailable. */
export const guarded = {
  '401': { $ref: '#/components/responses/Unauthorized' },
  '429': { $ref: '#/components/responses/RateLimited' },
  '503': { $ref: '#/components/responses/Unavailable' },
} as const;

export const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'Video id returned by POST /v1/videos',
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' },
};
