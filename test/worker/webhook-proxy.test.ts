// Webhooks through a forward proxy: a real proxy on loopback (absolute-form requests and CONNECT
// tunnels, with its own name table, as a proxy resolves names itself), real receivers behind it.
import { execFileSync } from 'node:child_process';
import type { LookupAddress } from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postWebhook, type ResolveHost } from '../../src/worker/webhook-post.ts';
import { bypassesProxy } from '../../src/worker/webhook-proxy.ts';
import { describeWithTools } from '../helpers/system-tools.ts';

const NAME = 'hooks.fer.test';
const CREDENTIALS = `Basic ${Buffer.from('fer:s3cret/x').toString('base64')}`;
const received: Array<{ host: string | undefined; body: string; signature: string | undefined }> = [];
const proxySaw: string[] = [];
let receiver: Server;
let receiverPort: number;
let proxy: Server;
let proxyUrl: URL;

const portOf = (server: net.Server) => (server.address() as AddressInfo).port;
const listen = (server: net.Server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const readBody = (request: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString()));
    request.on('end', () => resolve(body));
  });

beforeAll(async () => {
  receiver = createServer(async (request, response) => {
    received.push({
      host: request.headers.host,
      body: await readBody(request),
      signature: request.headers['x-fer-signature'] as string | undefined,
    });
    response.writeHead(204).end();
  });
  await listen(receiver);
  receiverPort = portOf(receiver);

  // The proxy resolves NAME to loopback itself, and wants credentials.
  const resolveHere = (host: string) => (host === NAME ? '127.0.0.1' : host);
  proxy = createServer(async (request, response) => {
    proxySaw.push(`${request.method} ${request.url} ${request.headers['proxy-authorization'] ?? '-'}`);
    if (request.headers['proxy-authorization'] !== CREDENTIALS) return void response.writeHead(407).end();
    const target = new URL(request.url!);
    const body = await readBody(request);
    const { 'proxy-authorization': _, ...headers } = request.headers;
    const forward = httpRequest(
      { host: resolveHere(target.hostname), port: target.port, method: request.method, path: target.pathname, headers },
      (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      },
    );
    forward.end(body);
  });
  proxy.on('connect', (request: IncomingMessage, socket: net.Socket, head: Buffer) => {
    proxySaw.push(`CONNECT ${request.url} ${request.headers['proxy-authorization'] ?? '-'}`);
    if (request.headers['proxy-authorization'] !== CREDENTIALS)
      return void socket.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
    const [host, port] = request.url!.split(':');
    const upstream = net.connect(Number(port), resolveHere(host!), () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await listen(proxy);
  proxyUrl = new URL(`http://fer:s3cret%2Fx@127.0.0.1:${portOf(proxy)}`);
});
afterAll(() => {
  receiver?.close();
  proxy?.close();
});
beforeEach(() => {
  received.length = 0;
  proxySaw.length = 0;
});

/** Our side's resolution of the names (the private-address check's), counting its calls. */
function resolverAnswering(answer: LookupAddress): ResolveHost & { calls: string[] } {
  const calls: string[] = [];
  return Object.assign(async (hostname: string) => (calls.push(hostname), [answer]), { calls });
}
// TEST-NET-3 (RFC 5737): public as far as the check goes; only the proxy knows where NAME is.
const PUBLIC: LookupAddress = { address: '203.0.113.10', family: 4 };
const LOOPBACK: LookupAddress = { address: '127.0.0.1', family: 4 };
const post = {
  headers: { 'content-type': 'application/json', 'x-fer-signature': 't=1,v1=ab' },
  body: '{"event":"video.completed"}',
  timeoutMs: 3000,
};

describe('webhooks through a forward proxy', () => {
  it('an http target is asked of the proxy in absolute form, with its credentials; our resolution of the name is checked first', async () => {
    const resolve = resolverAnswering(PUBLIC);
    const status = await postWebhook(new URL(`http://${NAME}:${receiverPort}/in`), {
      ...post,
      allowPrivate: false,
      resolve,
      proxy: { url: proxyUrl, noProxy: [] },
    });
    expect(status).toBe(204);
    expect(proxySaw).toEqual([`POST http://${NAME}:${receiverPort}/in ${CREDENTIALS}`]);
    expect(received).toEqual([{ host: `${NAME}:${receiverPort}`, body: post.body, signature: 't=1,v1=ab' }]);
    expect(resolve.calls).toEqual([NAME]);
  });

  it("a target URL's own credentials go in Authorization, never in the request line the proxy logs", async () => {
    let authorization: string | undefined;
    receiver.once('request', (request: IncomingMessage) => (authorization = request.headers.authorization));
    const status = await postWebhook(new URL(`http://hook:pa%24s@${NAME}:${receiverPort}/in`), {
      ...post,
      allowPrivate: false,
      resolve: resolverAnswering(PUBLIC),
      proxy: { url: proxyUrl, noProxy: [] },
    });
    expect(status).toBe(204);
    expect(proxySaw).toEqual([`POST http://${NAME}:${receiverPort}/in ${CREDENTIALS}`]);
    expect(authorization).toBe(`Basic ${Buffer.from('hook:pa$s').toString('base64')}`);
  });

  it('a name we resolve to a private address, or a private literal, is refused before the proxy is asked', async () => {
    const options = {
      ...post,
      allowPrivate: false,
      resolve: resolverAnswering(LOOPBACK),
      proxy: { url: proxyUrl, noProxy: [] },
    };
    await expect(postWebhook(new URL(`http://${NAME}:${receiverPort}/in`), options)).rejects.toThrow(
      `${NAME}:${receiverPort} resolves to a private address (127.0.0.1); refused (FER_WEBHOOK_ALLOW_PRIVATE)`,
    );
    await expect(postWebhook(new URL(`https://10.1.2.3/in`), options)).rejects.toThrow(
      /private address \(10\.1\.2\.3\)/,
    );
    expect(proxySaw).toEqual([]);
    expect(received).toEqual([]);
  });

  it('a name we cannot resolve is refused, not handed to the proxy unchecked (fail closed), and says what to set', async () => {
    const unknown: ResolveHost = async (hostname) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    };
    await expect(
      postWebhook(new URL(`http://${NAME}:${receiverPort}/in`), {
        ...post,
        allowPrivate: false,
        resolve: unknown,
        proxy: { url: proxyUrl, noProxy: [] },
      }),
    ).rejects.toThrow(
      `${NAME} cannot be resolved here (ENOTFOUND) to check that it is not a private address; refused — if only the proxy resolves names and its own rules keep internal addresses out, set FER_WEBHOOK_ALLOW_PRIVATE=true`,
    );
    expect(proxySaw).toEqual([]);
    // With private targets allowed, the proxy alone resolves it.
    expect(
      await postWebhook(new URL(`http://${NAME}:${receiverPort}/in`), {
        ...post,
        allowPrivate: true,
        resolve: unknown,
        proxy: { url: proxyUrl, noProxy: [] },
      }),
    ).toBe(204);
  });

  it('FER_WEBHOOK_NO_PROXY names go direct', async () => {
    const status = await postWebhook(new URL(`http://${NAME}:${receiverPort}/in`), {
      ...post,
      allowPrivate: true,
      resolve: resolverAnswering(LOOPBACK),
      proxy: { url: proxyUrl, noProxy: ['fer.test'] },
    });
    expect(status).toBe(204);
    expect(proxySaw).toEqual([]);
    expect(received).toHaveLength(1);
  });

  it('says what the proxy answered when it refuses a tunnel', async () => {
    const noCredentials = new URL(`http://127.0.0.1:${portOf(proxy)}`);
    await expect(
      postWebhook(new URL(`https://${NAME}:${receiverPort}/in`), {
        ...post,
        allowPrivate: false,
        resolve: resolverAnswering(PUBLIC),
        proxy: { url: noCredentials, noProxy: [] },
      }),
    ).rejects.toThrow(`the proxy answered 407 to CONNECT ${NAME}:${receiverPort}`);
    expect(proxySaw).toEqual([`CONNECT ${NAME}:${receiverPort} -`]);
  });

  it('NO_PROXY entries match the name and its subdomains', () => {
    expect(bypassesProxy('hooks.fer.test', ['fer.test'])).toBe(true);
    expect(bypassesProxy('HOOKS.fer.test', ['.fer.test'])).toBe(true);
    expect(bypassesProxy('hooks.fer.test', ['*.fer.test'])).toBe(true);
    expect(bypassesProxy('fer.test', ['fer.test'])).toBe(true);
    expect(bypassesProxy('notfer.test', ['fer.test'])).toBe(false);
    expect(bypassesProxy('example.com', ['fer.test', ' other.org'])).toBe(false);
    expect(bypassesProxy('anything.example', ['*'])).toBe(true);
    expect(bypassesProxy('[::1]', ['::1'])).toBe(true);
  });
});

describeWithTools('webhooks to https targets through a forward proxy', ['openssl'], () => {
  let tls: TlsServer;
  let dir: string;
  const names: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fer-webhook-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${NAME}`,
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const key = readFileSync(path.join(dir, 'key.pem'));
    const cert = readFileSync(path.join(dir, 'cert.pem'));
    // Records the name the client's TLS asked for (SNI): the handshake's first message.
    tls = createTlsServer(
      { key, cert, SNICallback: (name, done) => (names.push(name), done(null, undefined)) },
      (_request, response) => response.writeHead(204).end(),
    );
    await listen(tls);
  });
  afterAll(() => {
    tls?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('goes through a CONNECT tunnel with TLS end to end, the certificate checked for the target name', async () => {
    // The receiver's certificate is self-signed: the client must refuse it, inside the tunnel.
    await expect(
      postWebhook(new URL(`https://${NAME}:${portOf(tls)}/in`), {
        ...post,
        allowPrivate: false,
        resolve: resolverAnswering(PUBLIC),
        proxy: { url: proxyUrl, noProxy: [] },
      }),
    ).rejects.toThrow(/self[- ]signed certificate/);
    expect(proxySaw).toEqual([`CONNECT ${NAME}:${portOf(tls)} ${CREDENTIALS}`]);
    expect(names).toEqual([NAME]);
  });
});
