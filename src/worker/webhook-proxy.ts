// Webhooks through the operator's forward proxy (FER_WEBHOOK_PROXY, http://[user:pass@]host:port),
// where a cluster's egress must go through one. An http target is asked of the proxy in absolute
// form; an https target goes through a CONNECT tunnel with TLS end to end (the proxy sees the name
// and port, never the body or the signature). Names in FER_WEBHOOK_NO_PROXY go direct.
// The proxy resolves the target's name itself, so webhook-post.ts checks our own resolution before
// asking it: the proxy's own rules must keep internal addresses out against a name whose answer
// changes between the two (rebinding), as they must for every client behind it.

import http, { type ClientRequest, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';

export interface WebhookProxy {
  /** http://[user:pass@]host:port */
  readonly url: URL;
  /** Host names (and their subdomains; `.example.com` the same, `*` every host) that go direct. */
  readonly noProxy: readonly string[];
}

/** Whether `hostname` is one NO_PROXY sends direct: an entry equal to it, or a domain it is under. */
export function bypassesProxy(hostname: string, noProxy: readonly string[]): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return noProxy.some((raw) => {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\*?\./, '');
    return entry === '*' || host === entry || host.endsWith(`.${entry}`);
  });
}

function proxyAuthorization(proxy: URL): OutgoingHttpHeaders {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

const proxyPort = (proxy: URL) => Number(proxy.port || 80);
const targetPort = (target: URL) => Number(target.port || (target.protocol === 'https:' ? 443 : 80));

/** A CONNECT tunnel through `proxy` to the target's host and port. */
function openTunnel(proxy: URL, target: URL, signal: AbortSignal): Promise<Socket> {
  const authority = `${target.hostname}:${targetPort(target)}`;
  return new Promise<Socket>((resolve, reject) => {
    const request = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxyPort(proxy),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuthorization(proxy) },
      agent: false,
      signal,
    });
    request.on('connect', (response, socket) => {
      if (response.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new Error(`the proxy answered ${response.statusCode} to CONNECT ${authority}`));
    });
    request.on('error', reject);
    request.end();
  });
}

/** The POST request to `target` through `proxy` (not yet sent). */
export async function proxiedRequest(
  target: URL,
  proxy: URL,
  headers: OutgoingHttpHeaders,
  signal: AbortSignal,
): Promise<ClientRequest> {
  if (target.protocol === 'http:') {
    // The target's own credentials (http://user:pass@host/) go in Authorization, not the request line.
    const bare = new URL(target.href);
    bare.username = '';
    bare.password = '';
    const auth = target.username
      ? {
          authorization: `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`,
        }
      : {};
    return http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxyPort(proxy),
      method: 'POST',
      path: bare.href,
      headers: { ...headers, host: target.host, ...auth, ...proxyAuthorization(proxy) },
      agent: false,
      signal,
    });
  }
  const tunnel = await openTunnel(proxy, target, signal);
  const hostname = target.hostname.replace(/^\[|\]$/g, '');
  // TLS inside the tunnel, its certificate checked for the target's name (no SNI for an IP literal).
  const secure = () =>
    tls.connect({ socket: tunnel, host: hostname, ...(isIP(hostname) ? {} : { servername: hostname }) });
  return https.request(target, { method: 'POST', headers, createConnection: secure, signal });
}
