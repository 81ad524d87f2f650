// The routes that let people watch a result: the viewer page (open: it holds no data) and the
// video it plays — the source re-encoded with every face drawn (rendered on first request, kept
// beside the uploads until the video is deleted or expires), or `?annotated=false` the source as it is.

import { MEDIA_LINK_SECONDS, signMediaLink } from './media-access.ts';
import { sendRangedFile } from './ranged-file.ts';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { writeAnnotatedVideo } from '../../producer/index.ts';
import { ApiError } from '../errors.ts';
import { routeSchema } from '../request-validation.ts';
import type { VideoService } from '../service.ts';
import { ensureRoom, type UploadSpace } from '../upload-space.ts';
import { viewPage } from './page.ts';

export interface ViewRouteOptions {
  readonly service: VideoService;
  /** Where annotated copies are kept. */
  readonly annotatedDir: string;
  readonly allowedContainers: readonly string[];
  /** The volume the copies are written to, with its floor of free space (the uploads' volume). */
  readonly space?: UploadSpace;
  /** Renders running at once (FER_API_RENDER_CONCURRENCY); more wait their turn. Default 2. */
  readonly renderConcurrency?: number;
  /** What renders a copy (default writeAnnotatedVideo; tests watch it). */
  readonly render?: typeof writeAnnotatedVideo;
  /** Signs the viewer's video links (media-access.ts); null without tokens. */
  readonly mediaKey?: Buffer | null;
}

/** At most `limit` of the functions given to it run at once; the others wait, first come first served. */
function concurrencyLimit(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (work) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** The viewer page's path: open, as /healthz is (the page fetches everything else with the caller's token). */
export const VIEW_ROUTE = /^\/v1\/videos\/[^/?]+\/view$/;

/** Where annotated copies are kept: beside the uploads (the upload sweep removes those of videos gone). */
export function annotatedDirOf(uploadDir: string): string {
  return path.join(uploadDir, 'annotated');
}

export function annotatedFile(dir: string, videoId: string): string {
  return path.join(dir, `${videoId}.mp4`);
}

export function registerViewRoutes(app: FastifyInstance, options: ViewRouteOptions): void {
  const rendering = new Map<string, Promise<string>>();
  // Each render re-encodes a whole video on this process's CPU: a few at a time, however many
  // people open viewers of different videos at once.
  const renderSlot = concurrencyLimit(options.renderConcurrency ?? 2);
  const render = options.render ?? writeAnnotatedVideo;
  const exists = (file: string) =>
    stat(file).then(
      (s) => s.isFile(),
      () => false,
    );

  app.get<{ Params: { id: string } }>(
    '/v1/videos/:id/view',
    { schema: routeSchema('/v1/videos/{id}/view', 'get') },
    async (request, reply) => {
      const { id } = request.params;
      return reply
        .type('text/html; charset=utf-8')
        .header(
          'content-security-policy',
          "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; media-src 'self'",
        )
        .send(viewPage(id));
    },
  );

  // A link the viewer's <video> element can play (it cannot send the token): signed, for an hour.
  app.get<{ Params: { id: string }; Querystring: { annotated: boolean } }>(
    '/v1/videos/:id/video-link',
    { schema: routeSchema('/v1/videos/{id}/video-link', 'get') },
    async (request) => {
      const { id } = request.params;
      if ((await options.service.status(id, request.caller)) === null)
        throw new ApiError('not_found', `no video with id ${id}`);
      const expires = Math.floor(Date.now() / 1000) + MEDIA_LINK_SECONDS;
      const query = new URLSearchParams({
        ...(request.query.annotated ? {} : { annotated: 'false' }),
        ...(options.mediaKey ? { access: signMediaLink(options.mediaKey, id, request.caller ?? '', expires) } : {}),
      });
      const url = `/v1/videos/${encodeURIComponent(id)}/video${query.size > 0 ? `?${query}` : ''}`;
      return { url, expiresAt: new Date(expires * 1000).toISOString() };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { annotated: boolean } }>(
    '/v1/videos/:id/video',
    { schema: routeSchema('/v1/videos/{id}/video', 'get') },
    async (request, reply) => {
      const { id } = request.params;
      const annotated = request.query.annotated;
      const status = await options.service.status(id, request.caller);
      if (status === null) throw new ApiError('not_found', `no video with id ${id}`);
      const source = await options.service.sourcePath(id, request.caller);
      const cached = annotatedFile(options.annotatedDir, id);
      if (!annotated || !(await exists(cached))) {
        if (source === null || !(await exists(source)))
          throw new ApiError(
            'not_found',
            `the source of video ${id} is no longer kept (uploads are deleted FER_UPLOAD_KEEP_SECONDS after their video finishes)`,
          );
      }
      if (!annotated) return sendRangedFile(request, reply, source!, 'application/octet-stream');
      if (status.state !== 'completed')
        throw new ApiError(
          'results_not_ready',
          `video ${id} is ${status.state}: the annotated video is drawn from its result`,
        );
      let file = rendering.get(id);
      if (file === undefined && !(await exists(cached))) {
        file = (async () => {
          const result = await options.service.results(id, request.caller);
          if (result === null) throw new ApiError('results_not_ready', `video ${id} has no result`);
          await mkdir(options.annotatedDir, { recursive: true });
          // A copy is about the size of its source (the same frames, re-encoded): it must fit above the floor.
          const room = options.space
            ? await ensureRoom(
                options.space,
                (await stat(source!)).size,
                "the annotated copy (about its source's size)",
              )
            : undefined;
          const partial = `${cached}.${process.pid}.part.mp4`;
          try {
            await renderSlot(() =>
              render({ source: source!, result, out: partial, allowedContainers: options.allowedContainers }),
            );
            await rename(partial, cached);
          } finally {
            room?.release();
            await rm(partial, { force: true });
          }
          return cached;
        })().finally(() => rendering.delete(id));
        rendering.set(id, file);
      }
      await file;
      return sendRangedFile(request, reply, cached, 'video/mp4');
    },
  );
}
