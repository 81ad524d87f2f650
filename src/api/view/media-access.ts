// Links a <video> element can play: it cannot send an Authorization header, so the viewer page asks
// (with its token) for a signed, short-lived link to the video and gives the element that. The
// link names the video, the token's name and an expiry, signed with a key derived from the API's
// tokens (every replica has the same ones, none of them travels in the URL). Played with HTTP Range
// requests (./ranged-file.ts), the video starts before it has been downloaded.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../auth.ts';

/** How long a link plays (s): long enough to watch, short enough that a leaked link soon dies. */
export const MEDIA_LINK_SECONDS = 3600;

/** The signing key for these tokens; null when the API runs without tokens (links are not needed). */
export function mediaLinkKey(tokens: readonly ApiToken[]): Buffer | null {
  if (tokens.length === 0) return null;
  const hash = createHash('sha256').update('fer-stream media links\n');
  for (const token of [...tokens].sort((a, b) => a.name.localeCompare(b.name)))
    hash.update(`${token.name}\n`).update(token.digest);
  return hash.digest();
}

function signature(key: Buffer, videoId: string, caller: string, expires: number): Buffer {
  return createHmac('sha256', key).update(`${videoId}\n${caller}\n${expires}`).digest();
}

/** The `access` query value of a link to `videoId` for `caller`, valid until `expires` (s since the epoch). */
export function signMediaLink(key: Buffer, videoId: string, caller: string, expires: number): string {
  return `${expires}.${Buffer.from(caller).toString('base64url')}.${signature(key, videoId, caller, expires).toString('base64url')}`;
}

/** The caller a link was made for, when `access` is a valid, unexpired link to `videoId`; else null. */
export function verifyMediaLink(
  key: Buffer,
  videoId: string,
  access: string,
  nowSeconds = Date.now() / 1000,
): string | null {
  const [expiresText, callerText, given] = access.split('.');
  const expires = Number(expiresText);
  if (!Number.isInteger(expires) || expires < nowSeconds || callerText === undefined || given === undefined)
    return null;
  const caller = Buffer.from(callerText, 'base64url').toString();
  const expected = signature(key, videoId, caller, expires);
  const actual = Buffer.from(given, 'base64url');
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? caller : null;
}

const VIDEO_ROUTE = /^\/v1\/videos\/([^/?]+)\/video$/;

/** For the auth hook: the caller a request to a video's /video route carries a valid link for, else null. */
export function mediaLinkCaller(url: string, key: Buffer | null): string | null {
  if (key === null) return null;
  const [route, query] = url.split('?', 2);
  const match = VIDEO_ROUTE.exec(route!);
  const access = query === undefined ? null : new URLSearchParams(query).get('access');
  if (match === null || access === null) return null;
  return verifyMediaLink(key, decodeURIComponent(match[1]!), access);
}
