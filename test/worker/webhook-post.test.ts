// A webhook POST checks the address it connects to, not one looked up before: a receiver on
// loopback stands for an internal service, host names are answered by a resolver the test
// controls (the part a real DNS server would play: a name whose answer changes between two
// lookups cannot be made here without editing the machine's resolver).
import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isPrivateAddress, postWebhook, type ResolveHost } from '../../src/worker/webhook-post.ts';

interface Received {
  readonly host: string | undefined;
  readonly body: string;
  readonly signature: string | undefined;
}
const received: Received[] = [];
let receiver: Server;
let port: number;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString()));
    request.on('end', () => {
      received.push({
        host: request.headers.host,
        body,
        signature: request.headers['x-fer-signature'] as string | undefined,
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  port = (receiver.address() as AddressInfo).port;
});
afterAll(() => receiver?.close());
beforeEach(() => {
  received.length = 0;
});

/** A resolver answering `answers` in turn (the last one again once they run out), counting its calls. */
function scriptedResolver(...answers: LookupAddress[][]): ResolveHost & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    return answers[Math.min(calls.length - 1, answers.length - 1)]!;
  };
  return Object.assign(resolve, { calls });
}

const loopback: LookupAddress = { address: '127.0.0.1', family: 4 };
// TEST-NET-3 (RFC 5737): public as far as the check goes, and nothing answers there.
const publicAddress: LookupAddress = { address: '203.0.113.10', family: 4 };
const post = {
  headers: { 'content-type': 'application/json', 'x-fer-signature': 't=1,v1=ab' },
  body: '{"event":"video.completed"}',
  timeoutMs: 2000,
};

describe('postWebhook', () => {
  it('posts the body with its headers to an allowed target and gives the status; the name is resolved by the connection itself', async () => {
    const resolve = scriptedResolver([loopback]);
    // hooks.fer.test does not exist in any DNS: only the connection's own lookup can have reached the receiver.
    const status = await postWebhook(new URL(`http://hooks.fer.test:${port}/in`), {
      ...post,
      allowPrivate: true,
      resolve,
    });
    expect(status).toBe(204);
    expect(received).toEqual([{ host: `hooks.fer.test:${port}`, body: post.body, signature: 't=1,v1=ab' }]);
    expect(resolve.calls).toEqual(['hooks.fer.test']);
  });

  it('refuses an IP literal that is private, before connecting', async () => {
    await expect(postWebhook(new URL(`http://127.0.0.1:${port}/in`), { ...post, allowPrivate: false })).rejects.toThrow(
      `127.0.0.1:${port} resolves to a private address (127.0.0.1); refused (FER_WEBHOOK_ALLOW_PRIVATE)`,
    );
    await expect(
      postWebhook(new URL(`http://[::ffff:127.0.0.1]:${port}/in`), { ...post, allowPrivate: false }),
    ).rejects.toThrow(/private address \(::ffff:7f00:1\)/);
    expect(received).toEqual([]);
  });

  it('refuses a name any of whose addresses is private', async () => {
    const resolve = scriptedResolver([publicAddress, loopback]);
    await expect(
      postWebhook(new URL(`http://mixed.fer.test:${port}/in`), { ...post, allowPrivate: false, resolve }),
    ).rejects.toThrow(`mixed.fer.test:${port} resolves to a private address (127.0.0.1)`);
    expect(received).toEqual([]);
  });

  it('a name that answers public when checked and private afterwards (DNS rebinding) never reaches the private address', async () => {
    const resolve = scriptedResolver([publicAddress], [loopback]);
    // One lookup, made by the connection and checked there: it connects to the public answer
    // (where nothing listens), never asks again, and so never reaches the receiver.
    await expect(
      postWebhook(new URL(`http://rebind.fer.test:${port}/in`), {
        ...post,
        timeoutMs: 1500,
        allowPrivate: false,
        resolve,
      }),
    ).rejects.toThrow(/203\.0\.113\.10|no answer within 1500 ms|EHOSTUNREACH|ENETUNREACH/);
    expect(resolve.calls).toEqual(['rebind.fer.test']);
    expect(received).toEqual([]);
    // Asked again, the name now answers private: refused.
    await expect(
      postWebhook(new URL(`http://rebind.fer.test:${port}/in`), { ...post, allowPrivate: false, resolve }),
    ).rejects.toThrow(/private address \(127\.0\.0\.1\)/);
    expect(received).toEqual([]);
  });

  it('says when there is no answer in time, and refuses other schemes', async () => {
    const silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = new URL(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/in`);
      await expect(postWebhook(url, { ...post, timeoutMs: 300, allowPrivate: true })).rejects.toThrow(
        'no answer within 300 ms',
      );
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
    await expect(postWebhook(new URL('file:///etc/passwd'), { ...post, allowPrivate: true })).rejects.toThrow(
      'file: is not http or https',
    );
  });
});

describe('isPrivateAddress', () => {
  it('knows loopback, private, link-local, CGNAT, unspecified and mapped addresses from public ones', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      'ff02::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    // Public IPv4 stays allowed, mapped or not (a ::ffff:0:0/96 rule used to refuse every IPv4 callback).
    for (const a of ['203.0.113.10', '8.8.8.8', '172.32.0.1', '::ffff:8.8.8.8', '2001:db8::1', 'not-an-ip'])
      expect(isPrivateAddress(a), a).toBe(false);
  });
});
