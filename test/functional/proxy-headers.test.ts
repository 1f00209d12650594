// Proxy headers over real sockets: trusted_proxy (an address, *, localhost on a Unix socket),
// what the app sees in request.url, info and headers, inline and in a worker thread; untrusted
// fields removed (and logged when asked); malformed trusted fields refused with 400; the option
// checks. The field-by-field rules are in test/http/proxy-headers.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/index.js';
import { resolveOptions } from '../../src/config/options.js';
import { OptionError } from '../../src/errors.js';
import { RawClient, exchange, overUnixSocket, quietLogger, recordingLogger, startServer } from '../helpers/raw-client.js';
import { echoApp, parseEcho, type Echo } from './echo-app.js';

const dir = mkdtempSync(join(tmpdir(), 'waitstate-proxy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (fields: Record<string, string>, target = '/path?q=1') =>
  `GET ${target} HTTP/1.1\r\nHost: backend.internal:8080\r\n` +
  Object.entries(fields)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('') +
  'Connection: close\r\n\r\n';

const nginxLike = {
  'X-Forwarded-For': '198.51.100.9, 203.0.113.7',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'shop.example',
  'X-Forwarded-Port': '443',
};
const headerOf = (echo: Echo, name: string) => echo.headers.find(([n]) => n === name)?.[1];

describe('a trusted proxy', () => {
  it.each([
    ['inline', 0, echoApp],
    ['in a worker thread', 1, 'test/fixtures/worker-app.mjs:app'],
  ])('tells the app the client scheme, host and address (%s)', async (_, threads, app) => {
    const t = await startServer(app, {
      threads,
      trustedProxy: '127.0.0.1',
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port'],
    });
    const response = await exchange(t.port, request(nginxLike, threads === 0 ? '/path?q=1' : '/info?q=1'));
    expect(response.status).toBe(200);
    const echo = parseEcho(response.body);
    expect(echo.url).toBe(threads === 0 ? 'https://shop.example/path?q=1' : 'https://shop.example/info?q=1');
    expect(echo.info).toMatchObject({
      remoteAddress: '203.0.113.7',
      remotePort: 0,
      urlScheme: 'https',
      serverName: 'shop.example',
      serverPort: 443,
    });
    // The app sees only the hop it may believe, and the Host the client sent.
    expect(headerOf(echo, 'x-forwarded-for')).toBe('203.0.113.7');
    expect(headerOf(echo, 'host')).toBe('shop.example');
    await t.close();
  });

  it('with a count of 2 believes two hops', async () => {
    const t = await startServer(echoApp, { trustedProxy: '*', trustedProxyCount: 2, trustedProxyHeaders: 'x-forwarded-for' });
    const echo = parseEcho((await exchange(t.port, request({ 'X-Forwarded-For': '192.0.2.1, 198.51.100.9, 203.0.113.7' }))).body);
    expect(echo.info.remoteAddress).toBe('198.51.100.9');
    expect(headerOf(echo, 'x-forwarded-for')).toBe('198.51.100.9, 203.0.113.7');
    await t.close();
  });

  it('may speak RFC 7239 Forwarded, with a quoted IPv6 address and port', async () => {
    const t = await startServer(echoApp, { trustedProxy: '127.0.0.1', trustedProxyHeaders: ['forwarded'] });
    const forwarded = 'for="[2001:db8::1]:3821";host="example.com:8443";proto=https';
    const echo = parseEcho((await exchange(t.port, request({ Forwarded: forwarded, 'X-Forwarded-For': '9.9.9.9' }))).body);
    expect(echo.url).toBe('https://example.com:8443/path?q=1');
    expect(echo.info).toMatchObject({ remoteAddress: '2001:db8::1', remotePort: 3821, serverPort: 8443 });
    expect(headerOf(echo, 'x-forwarded-for')).toBeUndefined();
    expect(headerOf(echo, 'forwarded')).toBe(forwarded);
    await t.close();
  });

  it('does not leak one request into the next on the same connection', async () => {
    const t = await startServer(echoApp, { trustedProxy: '127.0.0.1', trustedProxyHeaders: 'x-forwarded-for x-forwarded-proto' });
    const client = await RawClient.connect(t.port);
    const keepAlive = (fields: string) => `GET /n HTTP/1.1\r\nHost: backend.internal:8080\r\n${fields}\r\n`;
    client.write(keepAlive('X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n') + keepAlive(''));
    const first = parseEcho((await client.readResponse()).body);
    const second = parseEcho((await client.readResponse()).body);
    client.destroy();
    expect([first.url, first.info.remoteAddress]).toEqual(['https://backend.internal:8080/n', '203.0.113.7']);
    expect([second.url, second.info.remoteAddress, second.info.urlScheme]).toEqual(['http://backend.internal:8080/n', '127.0.0.1', 'http']);
    await t.close();
  });

  it('over a Unix socket is trusted as localhost', async () => {
    const path = join(dir, 'proxy.sock');
    const server = await serve(echoApp, {
      unixSocket: path,
      trustedProxy: 'localhost',
      trustedProxyHeaders: 'x-forwarded-for',
      logger: quietLogger,
    });
    const text = await overUnixSocket(path, request({ 'X-Forwarded-For': '2001:db8::7' }));
    const echo = parseEcho(Buffer.from(text.slice(text.indexOf('\r\n\r\n') + 4)));
    expect(echo.info.remoteAddress).toBe('2001:db8::7');
    await server.close();
  });

  it('over IPv6 is matched in its compressed form', async () => {
    const server = await serve(echoApp, {
      listen: ['[::1]:0'],
      trustedProxy: '0:0:0:0:0:0:0:1',
      trustedProxyHeaders: 'x-forwarded-proto',
      logger: quietLogger,
    });
    const client = await RawClient.connect(server.addresses[0]!.port, '::1');
    client.write(request({ 'X-Forwarded-Proto': 'https' }));
    expect(parseEcho((await client.readResponse()).body).info.urlScheme).toBe('https');
    client.destroy();
    await server.close();
  });

  it('sending a malformed field gets 400 naming it, the connection closed, and a warning', async () => {
    const log = recordingLogger();
    const t = await startServer(echoApp, { trustedProxy: '127.0.0.1', trustedProxyHeaders: 'x-forwarded-proto', logger: log });
    const response = await exchange(t.port, request({ 'X-Forwarded-Proto': 'http://p02n3e.com?url=http' }));
    expect(response.status).toBe(400);
    expect(response.body.toString()).toContain('Header "X-Forwarded-Proto" malformed');
    expect(response.closed).toBe(true);
    expect(log.lines.some((l) => l.startsWith('warn:') && l.includes('malformed proxy header "X-Forwarded-Proto" from 127.0.0.1'))).toBe(
      true,
    );
    await t.close();
  });
});

describe('proxy fields the app must not believe', () => {
  it('are removed when the peer is not the trusted proxy, and logged when asked', async () => {
    const log = recordingLogger();
    const t = await startServer(echoApp, {
      trustedProxy: '192.0.2.99',
      trustedProxyHeaders: 'x-forwarded-for x-forwarded-proto',
      logUntrustedProxyHeaders: true,
      logger: log,
    });
    const echo = parseEcho((await exchange(t.port, request({ ...nginxLike, Forwarded: 'for=1.2.3.4', 'X-Forwarded-By': 'me' }))).body);
    expect(echo.url).toBe('http://backend.internal:8080/path?q=1');
    expect(echo.info.remoteAddress).toBe('127.0.0.1');
    expect(echo.headers.map(([n]) => n).filter((n) => n.includes('forwarded'))).toEqual([]);
    expect(log.lines.filter((l) => l.startsWith('warn:') && l.includes('removed untrusted proxy headers'))).toHaveLength(1);
    await t.close();
  });

  it('are removed by default, with no trusted proxy at all', async () => {
    const t = await startServer(echoApp);
    const echo = parseEcho((await exchange(t.port, request({ 'X-Forwarded-For': '1.2.3.4', 'X-Real-IP': '5.6.7.8' }))).body);
    expect(headerOf(echo, 'x-forwarded-for')).toBeUndefined();
    expect(headerOf(echo, 'x-real-ip')).toBe('5.6.7.8');
    await t.close();
  });

  it('reach the app when clear_untrusted_proxy_headers is off', async () => {
    const t = await startServer(echoApp, { clearUntrustedProxyHeaders: false });
    const echo = parseEcho((await exchange(t.port, request({ 'X-Forwarded-For': '1.2.3.4' }))).body);
    expect(headerOf(echo, 'x-forwarded-for')).toBe('1.2.3.4');
    expect(echo.info.remoteAddress).toBe('127.0.0.1');
    await t.close();
  });
});

describe('proxy options', () => {
  it.each([
    [{ trustedProxyCount: 2 }, 'trustedProxyCount', /without trustedProxy/],
    [{ trustedProxyHeaders: 'x-forwarded-for' }, 'trustedProxyHeaders', /without trustedProxy/],
    [{ trustedProxy: '*', trustedProxyHeaders: 'x-forwarded-fox' }, 'trustedProxyHeaders', /"x-forwarded-fox" is not one of/],
    [{ trustedProxy: '*', trustedProxyHeaders: 'forwarded x-forwarded-for' }, 'trustedProxyHeaders', /cannot be combined/],
    [{ trustedProxy: 'proxy.internal' }, 'trustedProxy', /must be an IP address/],
    [{ trustedProxy: '*', trustedProxyCount: 0 }, 'trustedProxyCount', /at least 1/],
  ])('refuse %j, naming %s', (options, option, detail) => {
    const resolve = () => resolveOptions(options);
    expect(resolve).toThrow(OptionError);
    expect(resolve).toThrow(detail);
    expect(() => resolveOptions(options)).toThrow(expect.objectContaining({ option }) as Error);
  });

  it('trust x-forwarded-proto alone, with a warning, when trusted_proxy names no headers (Waitress)', () => {
    const resolved = resolveOptions({ trustedProxy: '10.0.0.1' });
    expect(resolved.trustedProxyHeaders).toEqual(['x-forwarded-proto']);
    expect(resolved.warnings.join()).toMatch(/without trustedProxyHeaders/);
  });

  it('read header names in any case, space-separated as on the CLI', () => {
    expect(resolveOptions({ trustedProxy: '*', trustedProxyHeaders: 'X-Forwarded-For  x-forwarded-HOST' }).trustedProxyHeaders).toEqual([
      'x-forwarded-for',
      'x-forwarded-host',
    ]);
  });
});
