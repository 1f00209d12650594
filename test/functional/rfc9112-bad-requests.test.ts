// Requests we refuse, as Waitress does (a complete error response with Connection: close, then
// a close), but following RFC 9112 where it is stricter than Waitress 1.2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, RawClient, startServer, type TestServer } from '../helpers/raw-client.js';
import { echoApp, parseEcho } from './echo-app.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer(echoApp, { maxRequestHeaderSize: 1000, maxRequestBodySize: 1000 });
});
afterAll(() => t.close());

const cases: [string, string, number][] = [
  ['a malformed request line (two spaces)', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['a request line without a version', 'GET /\r\nHost: a\r\n\r\n', 400],
  ['a lowercase method', 'get / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['non-ASCII in the target', 'GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['a space-free malformed header line', 'GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n', 400],
  ['whitespace before a colon (RFC 9112 §5.1)', 'GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n', 400],
  ['a bare CR in a field', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n', 400],
  ['a bare LF line ending', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 400],
  ['a head using only LF', 'GET / HTTP/1.1\nHost: a\n\n', 400],
  ['a NUL in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n', 400],
  ['invalid chunked encoding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
  [
    'Content-Length with Transfer-Encoding',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    400,
  ],
  ['a Transfer-Encoding other than chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 400],
  ['chunked not the final coding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400],
  ['Transfer-Encoding on HTTP/1.0 (RFC 9112 §6.1)', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['an invalid Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n', 400],
  ['a signed Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc', 400],
  ['conflicting Content-Lengths', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
  ['a Content-Length list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc', 400],
  ['HTTP/1.1 without Host (RFC 9112 §3.2)', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['an invalid Host', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
  ['obs-fold on the first field line', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', 400],
  ['an absolute-form target that is not a URL', 'GET http://[::1/x HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['a fragment in an origin-form target (RFC 9112 §3.2.1)', 'GET /page#frag HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['a fragment in an absolute-form target (RFC 3986 §4.3)', 'GET http://a/page#frag HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['a Host that ends in a number but is no IPv4 address', 'GET / HTTP/1.1\r\nHost: example.0\r\n\r\n', 400],
  ['a Host with an IPv4 part over 255', 'GET / HTTP/1.1\r\nHost: 256.1.1.1\r\n\r\n', 400],
  ['a Host with a port over 65535', 'GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n', 400],
  ['a Host that is invalid punycode', 'GET / HTTP/1.1\r\nHost: XN--A\r\n\r\n', 400],
  ['a folded Transfer-Encoding (RFC 9112 §5.2)', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n', 400],
  ['a folded Content-Length (RFC 9112 §5.2)', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n 3\r\n\r\nabc', 400],
  ['CONNECT (RFC 9110 §9.3.6)', 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n', 501],
  ['TRACE (RFC 9110 §9.3.8)', 'TRACE / HTTP/1.1\r\nHost: a\r\n\r\n', 501],
  ['TRACK', 'TRACK / HTTP/1.1\r\nHost: a\r\n\r\n', 501],
  ['HTTP/2.0 in a request line', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
  ['a head larger than max_request_header_size', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(1100)}\r\n\r\n`, 431],
  ['a body larger than max_request_body_size', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n', 413],
];

describe('refused requests get a complete error response, Connection: close, then a close', () => {
  it.each(cases)('%s → %i', async (_name, request, status) => {
    const r = await exchange(t.port, request);
    expect(r.status).toBe(status);
    expect(r.header('connection')).toBe('close');
    expect(r.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(Number(r.header('content-length'))).toBe(r.body.byteLength);
    expect(r.header('date')).toBeDefined();
    expect(r.header('server')).toBe('waitstate');
    expect(r.closed).toBe(true);
  });
  it('a head exactly at max_request_header_size is accepted', async () => {
    const base = 'GET / HTTP/1.1\r\nHost: a\r\nX-Pad: \r\n\r\n';
    const request = base.replace('X-Pad: ', `X-Pad: ${'p'.repeat(1000 - base.length)}`);
    expect(request.length).toBe(1000);
    expect((await exchange(t.port, request)).status).toBe(200);
  });
});

describe('a refused HEAD is answered with the head alone (RFC 9110 §9.3.2)', () => {
  // Each refusal is decided at a different step: the head's bytes, the URL made of a whole head,
  // the body.
  it.each([
    ['a fragment in the target', 400, 'HEAD /page#frag HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a Host no URL can have', 400, 'HEAD / HTTP/1.1\r\nHost: 256.1.1.1\r\n\r\n'],
    ['a body larger than max_request_body_size', 413, 'HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n'],
    ['invalid chunked encoding', 400, 'HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ])('%s → %i, its Content-Length and no body, then a close', async (_name, status, request) => {
    const client = await RawClient.connect(t.port);
    client.write(request);
    const r = await client.readResponse({ forHead: true });
    expect(r.status).toBe(status);
    expect(Number(r.header('content-length'))).toBeGreaterThan(0);
    expect(await client.expectClosed()).toEqual({ closed: true, extra: '' });
    client.destroy();
  });
  it('the same refusal to a GET carries its body', async () => {
    const r = await exchange(t.port, 'GET /page#frag HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.body.byteLength).toBe(Number(r.header('content-length')));
    expect(r.body.byteLength).toBeGreaterThan(0);
  });
});

describe('fields the app never sees', () => {
  it('drops field names containing an underscore (Waitress)', async () => {
    const echo = parseEcho((await exchange(t.port, 'GET / HTTP/1.1\r\nHost: a\r\nX_Auth_User: admin\r\nX-Ok: 1\r\n\r\n')).body);
    expect(echo.headers.map(([n]) => n)).toEqual(expect.arrayContaining(['host', 'x-ok']));
    expect(echo.headers.map(([n]) => n)).not.toContain('x_auth_user');
  });
  it('replaces obs-fold with a space (RFC 9112 §5.2)', async () => {
    const echo = parseEcho((await exchange(t.port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Fold: a\r\n  b\r\n\r\n')).body);
    expect(echo.headers).toContainEqual(['x-fold', 'a b']);
  });
});

describe('what the app sees of the method and the URL', () => {
  it.each(['M!', '#', '~', "'", 'PATCH', 'FOO-BAR', 'CONNECTX', 'TRACES'])(
    'method %s reaches the app, which can make a Request of it',
    async (method) => {
      const r = await exchange(t.port, `${method} / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi`);
      expect(r.status).toBe(200);
      expect(parseEcho(r.body)).toMatchObject({ method, body: 'hi' });
    },
  );
  it.each([
    ['127.1', '/', 'http://127.0.0.1/'],
    ['0x7f.1:8080', '/x', 'http://127.0.0.1:8080/x'],
    ['Example.COM', '//evil.test/x', 'http://example.com//evil.test/x'],
    ['example.com', '/a/%2e%2e/b', 'http://example.com/b'],
  ])('Host %s, target %s: request.url is what the URL parser makes of them, %s', async (host, target, url) => {
    const r = await exchange(t.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    expect(r.status).toBe(200);
    expect(parseEcho(r.body).url).toBe(url);
  });
});
