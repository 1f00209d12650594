// How responses are delimited (RFC 9112 §6, RFC 9110 §6.4.1, §9.3.2) and what every response carries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, RawClient, startServer, type TestServer } from '../helpers/raw-client.js';

function stream(...parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
      controller.close();
    },
  });
}

const routes: Record<string, () => Response> = {
  '/text': () => new Response('Hello, World!'),
  '/bytes': () => new Response(new Uint8Array([1, 2, 3])),
  '/utf8': () => new Response('héllo €'),
  '/stream': () => new Response(stream('ab', 'cde')),
  '/stream-cl': () => new Response(stream('ab', 'cde'), { headers: { 'content-length': '5' } }),
  '/empty': () => new Response(null),
  '/204': () => new Response(null, { status: 204, headers: { 'content-length': '0' } }),
  '/304': () => new Response(null, { status: 304, headers: { etag: '"x"' } }),
  '/custom': () =>
    new Response('x', { status: 201, statusText: 'Made', headers: { 'x-a': '1', server: 'mine', date: 'Sun, 06 Nov 1994 08:49:37 GMT' } }),
};

// Run everything twice: with LiteResponse as globalThis.Response (the default) and with the
// real undici Response, which the server reads through its body source or its stream.
describe.each([
  ['LiteResponse', true],
  ['undici Response', false],
] as const)('with %s', (_label, overrideGlobalObjects) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer((request) => routes[new URL(request.url).pathname]!(), { overrideGlobalObjects });
  });
  afterAll(() => t.close());

  const get = (path: string, version = '1.1', method = 'GET') =>
    `${method} ${path} HTTP/${version}\r\n${version === '1.1' ? 'Host: a\r\n' : ''}\r\n`;

  describe('response framing (RFC 9112 §6.1, §6.3)', () => {
    it('sets Content-Length for a body of known length', async () => {
      const r = await exchange(t.port, get('/text'));
      expect(r.header('content-length')).toBe('13');
      expect(r.header('transfer-encoding')).toBeUndefined();
      expect(r.body.toString()).toBe('Hello, World!');
      expect(r.header('content-type')).toBe('text/plain;charset=UTF-8');
    });
    it('counts UTF-8 bytes, not characters', async () => {
      const r = await exchange(t.port, get('/utf8'));
      expect(r.header('content-length')).toBe(String(Buffer.byteLength('héllo €')));
      expect(r.body.toString('utf8')).toBe('héllo €');
    });
    it('sends bytes bodies as they are', async () => {
      const r = await exchange(t.port, get('/bytes'));
      expect([...r.body]).toEqual([1, 2, 3]);
      expect(r.header('content-length')).toBe('3');
    });
    it('sends Content-Length: 0 for an empty 200', async () => {
      const r = await exchange(t.port, get('/empty'));
      expect(r.header('content-length')).toBe('0');
      expect(r.closed).toBe(false);
    });
    it('chunks a body of unknown length on HTTP/1.1, one wire chunk per app chunk, and persists', async () => {
      const r = await exchange(t.port, get('/stream'));
      expect(r.header('transfer-encoding')).toBe('chunked');
      expect(r.header('content-length')).toBeUndefined();
      expect(r.raw.toString('latin1').endsWith('\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n')).toBe(true);
      expect(r.closed).toBe(false);
    });
    it('delimits a body of unknown length by closing on HTTP/1.0 (chunked is 1.1 only, RFC 9112 §7)', async () => {
      const client = await RawClient.connect(t.port);
      client.write('GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const r = await client.readResponse();
      expect(r.header('transfer-encoding')).toBeUndefined();
      expect(r.header('connection')).toBe('close');
      expect(r.body.toString()).toBe('abcde');
      expect((await client.expectClosed()).closed).toBe(true);
    });
    it('uses the app Content-Length for a stream', async () => {
      const r = await exchange(t.port, get('/stream-cl'));
      expect(r.header('content-length')).toBe('5');
      expect(r.body.toString()).toBe('abcde');
    });
    it('sends no body, Content-Length or Transfer-Encoding with 204 and 304 (RFC 9110 §15.3.5, §15.4.5)', async () => {
      for (const path of ['/204', '/304']) {
        const client = await RawClient.connect(t.port);
        client.write(get(path) + get('/text'));
        const r = await client.readResponse();
        expect(r.status).toBe(Number(path.slice(1)));
        expect(r.header('content-length')).toBeUndefined();
        expect(r.header('transfer-encoding')).toBeUndefined();
        // The next response follows immediately: nothing was sent as a body.
        expect((await client.readResponse()).body.toString()).toBe('Hello, World!');
        client.destroy();
      }
    });
    it('answers HEAD with the headers a GET would get and no body (RFC 9110 §9.3.2)', async () => {
      for (const path of ['/text', '/stream']) {
        const client = await RawClient.connect(t.port);
        client.write(get(path, '1.1', 'HEAD') + get('/text'));
        const head = await client.readResponse({ forHead: true });
        expect(head.status).toBe(200);
        if (path === '/text') expect(head.header('content-length')).toBe('13');
        expect((await client.readResponse()).body.toString()).toBe('Hello, World!');
        client.destroy();
      }
    });
  });

  describe('fields on every response (RFC 9110 §6.6.1, §10.2.4)', () => {
    it('sends Date and Server', async () => {
      const r = await exchange(t.port, get('/text'));
      expect(r.header('date')).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      expect(r.header('server')).toBe('waitstate');
      expect(r.version).toBe('1.1');
    });
    it('keeps the app Date, Server, status text and own fields', async () => {
      const r = await exchange(t.port, get('/custom'));
      expect(r.status).toBe(201);
      expect(r.reason).toBe('Made');
      expect(r.all('server')).toEqual(['mine']);
      expect(r.all('date')).toEqual(['Sun, 06 Nov 1994 08:49:37 GMT']);
      expect(r.header('x-a')).toBe('1');
    });
    it('omits Server when ident is empty', async () => {
      const quiet = await startServer(() => new Response('x'), { ident: '', overrideGlobalObjects });
      const r = await exchange(quiet.port, get('/'));
      expect(r.header('server')).toBeUndefined();
      expect(r.header('date')).toBeDefined();
      await quiet.close();
    });
  });
});
