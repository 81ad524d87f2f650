import { mkdir, rm } from 'node:fs/promises';
import multipart from '@fastify/multipart';
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { ApiConfig } from '../config/api.ts';
import type { Logger } from '../core/logger.ts';
import { resmoothVideoResult } from '../results/aggregate.ts';
import { RESULT_FORMAT_NAMES, resultFormat, type ResultFormatName } from '../results/formats.ts';
import { authenticate, type ApiToken } from './auth.ts';
import { ApiError, errorBody, type RequestErrorCode as ErrorCode } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { MAX_PAGE, MAX_SMOOTHING_WINDOW } from './openapi-common.ts';
import { ajv, routeSchema } from './request-validation.ts';
import { describeError, describeInvalidRequest, unsupportedMediaType, writeClientError } from './error-replies.ts';
import { idempotencyKeyOf, idempotencyScope, replayedVideoId, submissionFingerprint } from './idempotency.ts';
import { VIDEO_STATES, type Caller, type VideoService, type VideoState } from './service.ts';
import { DEFAULT_ALLOWED_CONTAINERS } from '../config/pipeline.ts';
import { volumeFreeBytes, type UploadSpace } from './upload-space.ts';
import { receiveUpload, resolveInputPath } from './submission-input.ts';
import { mediaLinkCaller, mediaLinkKey } from './view/media-access.ts';
import { annotatedDirOf, annotatedFile, registerViewRoutes, VIEW_ROUTE, type ViewRouteOptions } from './view/routes.ts';

// The HTTP API: submit videos (upload or path inside the input directory), follow their status,
// fetch their results as JSON, CSV or a chart. Every error is `{error: {code, message}}` with a
// stable code (errors.ts). The pipeline sits behind VideoService.

export interface ApiServerOptions {
  readonly config: Pick<ApiConfig, 'uploadDir' | 'maxUploadBytes' | 'inputDir' | 'maxJsonBytes'> &
    Partial<
      Pick<
        ApiConfig,
        | 'rateLimitPerMinute'
        | 'headersTimeoutMs'
        | 'requestTimeoutMs'
        | 'idleTimeoutMs'
        | 'maxConnections'
        | 'uploadMinFreeBytes'
        | 'renderConcurrency'
      >
    >;
  readonly service: VideoService;
  /** Tokens allowed on /v1 (src/api/auth.ts); empty or absent: /v1 is open (FER_API_AUTH=none, or loopback). */
  readonly tokens?: readonly ApiToken[];
  /** pino logger for request logs; none = silent. */
  readonly logger?: Logger;
  /** Told of every route as it is registered (the OpenAPI test checks each is documented). */
  readonly onRoute?: (route: { method: string; url: string }) => void;
  /** Containers the annotated-video renderer may open (FER_ALLOWED_CONTAINERS); default the configuration's default. */
  readonly allowedContainers?: readonly string[];
  /**
   * Where the rate limit counts: the pipeline's Redis (rate-limit-store.ts), so that every API
   * replica draws on one budget per token. Absent: this process's memory.
   */
  readonly rateLimitStore?: FastifyRateLimitStoreCtor;
  /** What renders annotated copies (view/routes.ts); default writeAnnotatedVideo. */
  readonly render?: ViewRouteOptions['render'];
}

/** What each route adds to a validation error's message (and which code it answers with). */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** Shown after the problems of an invalid query string. */
    readonly queryHint?: string;
    /** Error code for an invalid query string (default invalid_request). */
    readonly queryCode?: ErrorCode;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated token's name; undefined when the API runs without tokens. */
    caller: Caller;
  }
}

/** Routes that stay open and unlimited: probes and the API description. */
const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/openapi.json']);

/** Open without a token: those, and the viewer page (it holds no data; it fetches with the caller's token). */
function isOpenRoute(url: string): boolean {
  const route = url.split('?')[0]!;
  return OPEN_ROUTES.has(route) || VIEW_ROUTE.test(route);
}

export async function buildApiServer(options: ApiServerOptions): Promise<FastifyInstance> {
  const { config, service } = options;
  const tokens = options.tokens ?? [];
  const fastifyOptions = {
    bodyLimit: config.maxJsonBytes,
    // Ids are checked against the document's pattern, whatever their length: no router-level 404 body.
    routerOptions: { maxParamLength: 1000 },
    // Slow clients: headers, the whole request (an upload's body included) and idle sockets are timed out.
    connectionTimeout: config.idleTimeoutMs ?? 30_000,
    requestTimeout: config.requestTimeoutMs ?? 600_000,
    keepAliveTimeout: Math.min(5000, config.idleTimeoutMs ?? 30_000),
    // Node checks those deadlines every connectionsCheckingInterval (30 s by default): check every second.
    http: { headersTimeout: config.headersTimeoutMs ?? 10_000, connectionsCheckingInterval: 1000 },
    clientErrorHandler: writeClientError,
    return503OnClosing: true,
  };
  const app = options.logger
    ? Fastify({ ...fastifyOptions, loggerInstance: options.logger as FastifyBaseLogger })
    : Fastify({ ...fastifyOptions, logger: false });
  app.server.maxConnections = config.maxConnections ?? 512;
  // Every route's parameters and JSON body are checked against the OpenAPI document (request-validation.ts).
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));
  if (options.onRoute) {
    const report = options.onRoute;
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) report({ method, url: route.url });
    });
  }
  await mkdir(config.uploadDir, { recursive: true });
  const space: UploadSpace = {
    dir: config.uploadDir,
    minFreeBytes: config.uploadMinFreeBytes ?? 0,
    freeBytes: volumeFreeBytes,
    promised: { bytes: 0 },
  };
  await app.register(multipart, { limits: { fileSize: config.maxUploadBytes, files: 1, fields: 20, fieldSize: 1024 } });

  app.decorateRequest('caller', undefined);
  const mediaKey = mediaLinkKey(tokens);
  app.addHook('onRequest', async (request) => {
    if (isOpenRoute(request.url) || tokens.length === 0) return;
    // A signed link to a video (the viewer's <video> element cannot send the token): its token's name.
    const linked = mediaLinkCaller(request.url, mediaKey);
    if (linked !== null) {
      request.caller = linked;
      return;
    }
    const name = authenticate(request.headers.authorization, tokens);
    if (name === null) {
      throw new ApiError(
        'unauthorized',
        request.headers.authorization
          ? 'the bearer token is not valid'
          : 'send an API token: Authorization: Bearer TOKEN',
      );
    }
    request.caller = name;
  });
  if ((config.rateLimitPerMinute ?? 600) > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitPerMinute ?? 600,
      timeWindow: 60_000,
      // After authentication: a token's budget is its own, whichever address it comes from.
      hook: 'preHandler',
      keyGenerator: (request) => (request.caller !== undefined ? `token:${request.caller}` : `ip:${request.ip}`),
      allowList: (request) => OPEN_ROUTES.has(request.url.split('?')[0]!),
      // A store that cannot count (Redis down or hung) fails the request with 503, as the service would.
      ...(options.rateLimitStore ? { store: options.rateLimitStore } : {}),
      errorResponseBuilder: (_request, context) =>
        new ApiError(
          'rate_limited',
          `more than ${context.max} requests in ${context.after}; retry after ${Math.ceil(context.ttl / 1000)} s (FER_API_RATE_LIMIT)`,
        ),
    });
  }

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, code, message } = error.validation
      ? describeInvalidRequest(error, request)
      : describeError(error, config.maxUploadBytes);
    if (status >= 500 && code !== 'unavailable') request.log.error({ err: error }, 'request failed');
    if (code === 'unauthorized') void reply.header('www-authenticate', 'Bearer');
    void reply.status(status).send(errorBody(code, message));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`));
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const ready = await service.ready().catch(() => false);
    if (!ready) return reply.status(503).send(errorBody('unavailable', 'Redis is not reachable'));
    // Ready to take submissions; whether anything would process them is said beside it.
    const services = await service.services().catch(() => undefined);
    return { status: 'ready', ...(services ?? {}) };
  });

  app.get('/openapi.json', async () => openApiDocument);

  app.post('/v1/videos', { schema: routeSchema('/v1/videos', 'post') }, async (request, reply) => {
    const isJson = /^application\/json\b/i.test(request.headers['content-type'] ?? '');
    if (!request.isMultipart() && !isJson) throw unsupportedMediaType();
    const idempotencyKey = idempotencyKeyOf(request.headers['idempotency-key']);
    const submitted = request.isMultipart()
      ? await receiveUpload(request, config, space)
      : await resolveInputPath(request.body, config.inputDir);
    const accepted = (id: string, replayed = false) => {
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return reply
        .status(202)
        .header('location', `/v1/videos/${id}`)
        .send({ id, status: `/v1/videos/${id}`, results: `/v1/videos/${id}/results` });
    };
    // Not queued (or queued before, under the same Idempotency-Key): an uploaded file is of no use to anyone.
    const dropUpload = () => (submitted.uploaded ? rm(submitted.path, { force: true }) : Promise.resolve());
    let claim: { scope: string; fingerprint: string } | undefined;
    if (idempotencyKey !== undefined) {
      claim = {
        scope: idempotencyScope(idempotencyKey, request.caller),
        fingerprint: await submissionFingerprint(submitted),
      };
      const replayed = await service.idempotency
        .claim(claim.scope, claim.fingerprint)
        .then(replayedVideoId)
        .catch(async (error: unknown) => {
          await dropUpload();
          throw error;
        });
      if (replayed !== undefined) {
        await dropUpload();
        request.log.info({ videoId: replayed }, 'video submission replayed (same Idempotency-Key and request)');
        return accepted(replayed, true);
      }
    }
    let id: string;
    try {
      ({ id } = await service.submit({
        ...submitted,
        ...(request.caller !== undefined ? { owner: request.caller } : {}),
      }));
    } catch (error) {
      if (claim) await service.idempotency.release(claim.scope).catch(() => undefined);
      await dropUpload();
      throw error;
    }
    if (claim) await service.idempotency.complete(claim.scope, claim.fingerprint, id);
    request.log.info({ videoId: id, uploaded: submitted.uploaded }, 'video submitted');
    return accepted(id);
  });

  const listConfig = {
    queryHint: `state: one of ${VIDEO_STATES.join(', ')}; limit: 1..${MAX_PAGE}; cursor: the previous page's`,
  };
  app.get<{ Querystring: { state?: VideoState; limit: number; cursor?: string } }>(
    '/v1/videos',
    { schema: routeSchema('/v1/videos', 'get'), config: listConfig },
    async (request) => {
      const { state, limit, cursor } = request.query;
      const page = await service.list(
        { limit, ...(state ? { state } : {}), ...(cursor ? { cursor } : {}) },
        request.caller,
      );
      const next =
        page.next === null
          ? null
          : `/v1/videos?${new URLSearchParams({ ...(state ? { state } : {}), limit: String(limit), cursor: page.next })}`;
      return { videos: page.videos, next };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/videos/:id',
    { schema: routeSchema('/v1/videos/{id}', 'delete') },
    async (request) => {
      const { id } = request.params;
      const outcome = await service.delete(id, request.caller);
      if (outcome === null) throw new ApiError('not_found', `no video with id ${id}`);
      await rm(annotatedFile(annotatedDirOf(config.uploadDir), id), { force: true });
      request.log.info(
        { videoId: id, cancelled: outcome.cancelled },
        outcome.cancelled ? 'video cancelled and deleted' : 'video deleted',
      );
      return { id, deleted: true, cancelled: outcome.cancelled };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/videos/:id/cancel',
    { schema: routeSchema('/v1/videos/{id}/cancel', 'post') },
    async (request) => {
      const { id } = request.params;
      const outcome = await service.cancel(id, request.caller);
      if (outcome === null) throw new ApiError('not_found', `no video with id ${id}`);
      if (outcome === 'finished')
        throw new ApiError('video_finished', `video ${id} has already ended; DELETE /v1/videos/${id} removes it`);
      request.log.info({ videoId: id }, 'video cancelled');
      return service.status(id, request.caller);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/videos/:id',
    { schema: routeSchema('/v1/videos/{id}', 'get') },
    async (request) => {
      const { id } = request.params;
      const status = await service.status(id, request.caller);
      if (status === null) throw new ApiError('not_found', `no video with id ${id}`);
      return status;
    },
  );

  const resultsConfig = {
    queryCode: 'invalid_format' as const,
    queryHint: `format: ${RESULT_FORMAT_NAMES.join(', ')}; smoothing: an integer 1..${MAX_SMOOTHING_WINDOW}`,
  };
  app.get<{ Params: { id: string }; Querystring: { format: ResultFormatName; smoothing?: number } }>(
    '/v1/videos/:id/results',
    { schema: routeSchema('/v1/videos/{id}/results', 'get'), config: resultsConfig },
    async (request, reply) => {
      const { id } = request.params;
      const { format, smoothing } = request.query;
      const status = await service.status(id, request.caller);
      if (status === null) throw new ApiError('not_found', `no video with id ${id}`);
      if (status.state === 'cancelled')
        throw new ApiError('video_cancelled', `video ${id} was cancelled: it has no results`);
      if (status.state === 'failed')
        throw new ApiError(
          'video_failed',
          `video ${id} failed: ${status.errors.map((e) => `${e.message} (${e.code})`).join('; ') || 'no reason recorded'}`,
        );
      const stored = status.state === 'completed' ? await service.results(id, request.caller) : null;
      if (stored === null) {
        const total = status.progress.framesTotal ?? status.progress.framesExpected;
        const done = total === null ? 'frame count not known yet' : `${status.progress.framesDone}/${total} frames`;
        throw new ApiError('results_not_ready', `video ${id} is ${status.state} (${done}); poll GET /v1/videos/${id}`);
      }
      const result = smoothing === undefined ? stored : resmoothVideoResult(stored, smoothing);
      // The schema admits only the table's names.
      const chosen = resultFormat(format)!;
      reply.type(chosen.contentType);
      if (chosen.download) reply.header('content-disposition', `attachment; filename="${id}${chosen.fileSuffix}"`);
      return reply.send(await chosen.render(result));
    },
  );

  registerViewRoutes(app, {
    service,
    annotatedDir: annotatedDirOf(config.uploadDir),
    allowedContainers: options.allowedContainers ?? DEFAULT_ALLOWED_CONTAINERS,
    space,
    renderConcurrency: config.renderConcurrency,
    render: options.render,
    mediaKey,
  });

  app.addHook('onClose', async () => {
    await service.close();
  });
  return app;
}
