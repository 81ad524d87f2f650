// Sends a file with HTTP Range support (RFC 9110 §14): one byte range per request, as media
// elements ask, answered 206 with Content-Range; no Range: the whole file, 200; a range past the
// end: 416. So a browser plays a video from its first bytes and seeks without downloading it all.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';

export async function sendRangedFile(
  request: FastifyRequest,
  reply: FastifyReply,
  file: string,
  type: string,
): Promise<FastifyReply> {
  const size = (await stat(file)).size;
  void reply.type(type).header('accept-ranges', 'bytes');
  const range = parseRange(request.headers.range, size);
  if (range === null) return reply.header('content-length', size).send(createReadStream(file));
  if (range === 'unsatisfiable') return reply.status(416).header('content-range', `bytes */${size}`).send();
  const { start, end } = range;
  return reply
    .status(206)
    .header('content-range', `bytes ${start}-${end}/${size}`)
    .header('content-length', end - start + 1)
    .send(createReadStream(file, { start, end }));
}

/**
 * The one range of a `bytes=` header, clamped to the file; null: none (or a form we serve whole); 'unsatisfiable': past
 * the end.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return null;
  const [, from, to] = match;
  if (from === '' && to === '') return null;
  let start: number;
  let end: number;
  if (from === '') {
    // The last N bytes.
    start = Math.max(0, size - Number(to));
    end = size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
