// One webhook POST, its target checked where the connection is made. A callbackUrl is a client's
// choice, so unless private targets are allowed, every address its name resolves to must be
// public — and the address checked must be the one connected to: the check runs inside the
// socket's own lookup, so a DNS answer that changes between a check and the request (rebinding)
// has nothing to slip through. IP literals skip lookup in net.connect and are checked before.
// node:http rather than fetch: its `lookup` option is the socket's resolution itself, and it never
// follows redirects. Through a forward proxy (webhook-proxy.ts) the proxy connects, so the check
// runs on our own resolution before asking it.

import { promises as dns, type LookupAddress } from 'node:dns';
import http, { type ClientRequest } from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { bypassesProxy, proxiedRequest, type WebhookProxy } from './webhook-proxy.ts';

/** All addresses of a host name (dns.lookup: /etc/hosts, then DNS, as every other connection). */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolve: ResolveHost = (hostname) => dns.lookup(hostname, { all: true });

// BlockList checks an IPv4-mapped IPv6 address (::ffff:a.b.c.d) against the IPv4 rules itself; a
// ::ffff:0:0/96 rule would instead match every IPv4 address, public ones included.
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 3],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::1', 128],
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

/**
 * Loopback, private, link-local, carrier-grade NAT, unspecified, multicast and reserved addresses (IPv4-mapped too).
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

function refusal(host: string, address: string): Error {
  return new Error(`${host} resolves to a private address (${address}); refused (FER_WEBHOOK_ALLOW_PRIVATE)`);
}

/** net.connect's lookup through `resolve`; with `shownHost`, refuses a name any of whose addresses is private. */
function connectLookup(resolve: ResolveHost, shownHost: string | undefined): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname)
      .then((all) => {
        const bad = shownHost === undefined ? undefined : all.find((a) => isPrivateAddress(a.address));
        if (bad) throw refusal(shownHost!, bad.address);
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable = family ? all.filter((a) => a.family === family) : all;
        if (usable.length === 0)
          throw Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' });
        if (options.all) callback(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      })
      .catch((error: NodeJS.ErrnoException) => callback(error, '', 0));
  };
}

export interface WebhookPost {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  /** FER_WEBHOOK_ALLOW_PRIVATE: the operator's own receivers may be internal. */
  readonly allowPrivate: boolean;
  readonly resolve?: ResolveHost;
  /** FER_WEBHOOK_PROXY / FER_WEBHOOK_NO_PROXY (webhook-proxy.ts); absent: every target direct. */
  readonly proxy?: WebhookProxy;
}

/** POSTs `body` to `url`; resolves with the answer's status code (the answer's body is not read). */
export async function postWebhook(url: URL, post: WebhookPost): Promise<number> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${url.protocol} is not http or https`);
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (!post.allowPrivate && isPrivateAddress(literal)) throw refusal(url.host, literal);
  const resolveHost = post.resolve ?? systemResolve;
  const signal = AbortSignal.timeout(post.timeoutMs);
  const headers = { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) };
  const timedOut = (error: unknown) => (signal.aborted ? new Error(`no answer within ${post.timeoutMs} ms`) : error);
  const viaProxy = post.proxy !== undefined && !bypassesProxy(url.hostname, post.proxy.noProxy);
  let request: ClientRequest;
  if (viaProxy) {
    // The proxy connects, so the check runs on our resolution of the name, before asking it.
    if (!post.allowPrivate && isIP(literal) === 0) {
      // A name only the proxy can resolve cannot be checked here: refused, saying so (fail closed).
      const answers = await resolveHost(url.hostname).catch((error: NodeJS.ErrnoException) => {
        throw new Error(
          `${url.hostname} cannot be resolved here (${error.code ?? error.message}) to check that it is not a private address; refused — if only the proxy resolves names and its own rules keep internal addresses out, set FER_WEBHOOK_ALLOW_PRIVATE=true`,
        );
      });
      const bad = answers.find((a) => isPrivateAddress(a.address));
      if (bad) throw refusal(url.host, bad.address);
    }
    request = await proxiedRequest(url, post.proxy!.url, headers, signal).catch((error: unknown) => {
      throw timedOut(error);
    });
  } else {
    request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers,
      lookup: connectLookup(resolveHost, post.allowPrivate ? undefined : url.host),
      // A connection of its own: a pooled socket would skip the lookup (and so the check).
      agent: false,
      signal,
    });
  }
  return new Promise<number>((resolve, reject) => {
    request.on('response', (response) => {
      resolve(response.statusCode ?? 0);
      response.destroy();
    });
    request.on('error', (error) => reject(timedOut(error)));
    request.end(post.body);
  });
}
