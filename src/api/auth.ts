// Who may use the API: bearer tokens from FER_API_TOKENS (`NAME:TOKEN` or a bare TOKEN, named
// token-1, token-2, … by position). Presented tokens are compared in constant time — as SHA-256
// digests with timingSafeEqual against every configured token, without an early exit — so
// response time says nothing about how much of a token was right.

import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { FerError } from '../core/errors.ts';

export interface ApiToken {
  /** Owner of the videos submitted with it; shown in logs, never the token itself. */
  readonly name: string;
  readonly digest: Buffer;
}

/** Shortest token accepted: guessing one must not be feasible. */
export const MIN_TOKEN_LENGTH = 16;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** Parses FER_API_TOKENS entries; FerError `invalid_tokens` naming the bad entry (by position, never its text). */
export function parseTokens(entries: readonly string[]): ApiToken[] {
  const tokens: ApiToken[] = [];
  const names = new Set<string>();
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(':');
    const named = colon > 0 && NAME.test(entry.slice(0, colon));
    const name = named ? entry.slice(0, colon) : `token-${i + 1}`;
    const token = named ? entry.slice(colon + 1) : entry;
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      throw new FerError(
        'invalid_tokens',
        `FER_API_TOKENS entry ${i + 1} (${name}): a token needs at least ${MIN_TOKEN_LENGTH} characters and no spaces (e.g. openssl rand -hex 24)`,
      );
    }
    if (names.has(name)) throw new FerError('invalid_tokens', `FER_API_TOKENS: the name "${name}" is given twice`);
    names.add(name);
    tokens.push({ name, digest: digest(token) });
  });
  return tokens;
}

/** The name of the token in an `Authorization: Bearer TOKEN` header, or null when missing or wrong. */
export function authenticate(header: string | undefined, tokens: readonly ApiToken[]): string | null {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  const presented = digest(match?.[1] ?? '');
  let found: string | null = null;
  for (const token of tokens) {
    // Every token is compared, found or not: the time taken does not depend on which one matched.
    if (timingSafeEqual(presented, token.digest) && match) found ??= token.name;
  }
  return found;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost') return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (net.isIPv6(bare)) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}

/**
 * Refuses an API that anyone on the network could use: a non-loopback address needs tokens,
 * unless FER_API_AUTH=none says explicitly that it should be open.
 */
export function assertSafeListen(host: string, auth: 'token' | 'none', tokens: readonly ApiToken[]): void {
  if (auth === 'none' || tokens.length > 0 || isLoopbackHost(host)) return;
  throw new FerError(
    'unsafe_listen',
    `refusing to serve the API on ${host} without authentication: set FER_API_TOKENS (e.g. FER_API_TOKENS=alice:$(openssl rand -hex 24)), listen on 127.0.0.1, or set FER_API_AUTH=none to run it open on purpose`,
  );
}
