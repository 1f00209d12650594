// The library API: serve(), the handle, apps as functions or objects (a real Hono app), the
// Request and info the app receives, and close().
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { OptionError, serve, type ConnectionInfo, type RequestInfo } from '../../src/index.js';
import { exchange, quietLogger, RawClient, startServer } from '../helpers/raw-client.js';
import { echoApp, parseEcho } from './echo-app.js';

describe('serve()', () => {
  it('resolves once listening, with the addresses really bound (port 0 resolved)', async () => {
    const server = await serve(() => new Response('x'), { listen: ['127.0.0.1:0', '[::1]:0'], logger: quietLogger });
    expect(server.addresses).toHaveLength(2);
    expect(server.addresses[0]).toMatchObject({ host: '127.0.0.1', family: 'IPv4' });
    expect(server.addresses[0]!.port).toBeGreaterThan(0);
    expect(server.addresses[1]).toMatchObject({ host: '::1', family: 'IPv6' });
    expect(server.addresses[1]!.url).toBe(`http://[::1]:${server.addresses[1]!.port}`);
    const r = await exchange(server.addresses[1]!.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n').catch(() => undefined);
    // [::1] is only reachable from an IPv6 client; the IPv4 one must answer.
    expect(r === undefined || r.status === 200).toBe(true);
    expect((await exchange(server.addresses[0]!.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).status).toBe(200);
    await server.close();
  });
  it('throws an OptionError naming the option for a bad value', async () => {
    await expect(serve(() => new Response('x'), { port: -1, logger: quietLogger })).rejects.toThrow(OptionError);
    await expect(serve(() => new Response('x'), { port: -1, logger: quietLogger })).rejects.toThrow(/^port:/);
    await expect(serve(() => new Response('x'), { listen: ['nonsense:port'] })).rejects.toThrow(/^listen:/);
    await expect(serve(() => new Response('x'), { listen: ['127.0.0.1:0'], port: 8080 })).rejects.toThrow(/^listen:/);
    await expect(serve(() => new Response('x'), { bogus: 1 } as never)).rejects.toThrow(/^bogus:/);
    await expect(serve(() => new Response('x'), { threads: 4, listen: ['127.0.0.1:0'] })).rejects.toThrow(/^threads:/);
    await expect(serve({} as never, {})).rejects.toThrow(/fetch/);
  });
  it('accepts an object with a fetch method', async () => {
    const t = await startServer({ fetch: () => new Response('from fetch') });
    expect((await exchange(t.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n')).body.toString()).toBe('from fetch');
    await t.close();
  });
  it('serves a real Hono app unchanged', async () => {
    const app = new Hono();
    app.get('/hello/:name', (c) => c.text(`Hello, ${c.req.param('name')}!`));
    app.post('/json', async (c) => c.json({ got: await c.req.json(), ua: c.req.header('user-agent') }));
    const t = await startServer(app);
    const hello = await exchange(t.port, 'GET /hello/hono HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(hello.status).toBe(200);
    expect(hello.body.toString()).toBe('Hello, hono!');
    const body = '{"a":[1,2]}';
    const json = await exchange(
      t.port,
      `POST /json HTTP/1.1\r\nHost: a\r\nUser-Agent: raw\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(JSON.parse(json.body.toString())).toEqual({ got: { a: [1, 2] }, ua: 'raw' });
    expect((await exchange(t.port, 'GET /missing HTTP/1.1\r\nHost: a\r\n\r\n')).status).toBe(404);
    await t.close();
  });
});

describe('what the app receives', () => {
  it('an absolute request.url from the Host field, and info about the connection', async () => {
    const t = await startServer(echoApp, { serverName: 'example.test' });
    const echo = parseEcho((await exchange(t.port, 'GET /p/q?x=1&y=%20 HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n')).body);
    expect(echo.url).toBe('http://example.com:8080/p/q?x=1&y=%20');
    expect(echo.info).toMatchObject({
      remoteAddress: '127.0.0.1',
      urlScheme: 'http',
      scriptName: '',
      serverName: 'example.test',
      serverPort: t.port,
    });
    expect(echo.info.remotePort).toBeGreaterThan(0);
    await t.close();
  });
  it('the bound address in request.url when an HTTP/1.0 request has no Host', async () => {
    const t = await startServer(echoApp);
    const echo = parseEcho((await exchange(t.port, 'GET /x HTTP/1.0\r\n\r\n')).body);
    expect(echo.url).toBe(`http://127.0.0.1:${t.port}/x`);
    await t.close();
  });
  it('the target URL for an absolute-form request (RFC 9112 §3.2.2), normalised like new Request() would', async () => {
    const t = await startServer(echoApp, { urlScheme: 'https' });
    expect(parseEcho((await exchange(t.port, 'GET http://other.test/a HTTP/1.1\r\nHost: a\r\n\r\n')).body).url).toBe('http://other.test/a');
    expect(parseEcho((await exchange(t.port, 'GET /a/../b/./c HTTP/1.1\r\nHost: a:443\r\n\r\n')).body).url).toBe('https://a/b/c');
    await t.close();
  });
  it('a Request that passes instanceof and builds the real one on demand', async () => {
    const seen: unknown[] = [];
    const t = await startServer(async (request) => {
      seen.push(
        request instanceof Request,
        request.method,
        await request.text(),
        request.headers.get('x-a'),
        request.signal instanceof AbortSignal,
      );
      return new Response('ok');
    });
    await exchange(t.port, 'PUT / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nContent-Length: 4\r\n\r\nbody');
    expect(seen).toEqual([true, 'PUT', 'body', '1', true]);
    await t.close();
  });
  it('a Request copied through the Fetch constructor: new Request(request) and new Request(request, init)', async () => {
    const seen: unknown[] = [];
    const t = await startServer(async (request) => {
      const edited = new Request(new URL('/other', request.url), request.clone());
      const copy = new Request(request);
      seen.push(copy.method, copy.url, copy.headers.get('x-a'), await copy.text(), edited.url, edited.headers.get('x-a'));
      return new Response(new Response('lite', { status: 201, headers: { 'x-b': '2' } }).body, new Response(null, { status: 202 }));
    });
    const r = await exchange(t.port, 'PUT /p HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nContent-Length: 4\r\n\r\nbody').finally(() => t.close());
    expect(r.status).toBe(202);
    expect(r.body.toString()).toBe('lite');
    expect(seen).toEqual(['PUT', 'http://a/p', '1', 'body', 'http://a/other', '1']);
  });
});

describe('names kept for code written against an earlier waitstate', () => {
  it('RequestInfo is ConnectionInfo, deprecated, since the Fetch standard’s RequestInfo is Request | string', () => {
    // Checked by the type checker: the two names are interchangeable.
    const info: RequestInfo = {} as ConnectionInfo;
    const back: ConnectionInfo = info;
    expect(back).toBe(info);
    const file = new URL('../../src/app.ts', import.meta.url);
    const source = ts.createSourceFile('app.ts', readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const alias = source.statements.find(
      (s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'RequestInfo',
    );
    expect(alias?.type.getText(source)).toBe('ConnectionInfo');
    const deprecation = ts.getJSDocDeprecatedTag(alias!);
    expect(ts.getTextOfJSDocComment(deprecation?.comment)).toMatch(/Fetch standard's `RequestInfo` is `Request \| string`/);
  });
});

describe('the Response an app returns', () => {
  it('LiteResponse stands in for Response while serving; real Responses still pass instanceof', async () => {
    const seen: unknown[] = [];
    const t = await startServer((request) => {
      const path = new URL(request.url).pathname;
      const real = Response.json({ path });
      const lite = new Response('lite');
      seen.push(real instanceof Response, lite instanceof Response, Object.prototype.toString.call(lite));
      return path === '/json' ? real : lite;
    });
    const json = await exchange(t.port, 'GET /json HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(JSON.parse(json.body.toString())).toEqual({ path: '/json' });
    expect(json.header('content-type')).toBe('application/json');
    expect((await exchange(t.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n')).body.toString()).toBe('lite');
    expect(seen).toEqual([true, true, '[object Response]', true, true, '[object Response]']);
    await t.close();
  });
  it('a LiteResponse read by the app (text(), clone()) is served from the real one it became', async () => {
    const t = await startServer(async () => {
      const response = new Response('read me', { status: 201, headers: { 'x-a': '1' } });
      const copy = response.clone();
      if ((await copy.text()) !== 'read me') throw new Error('clone lost the body');
      return response;
    });
    const r = await exchange(t.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect([r.status, r.header('x-a'), r.body.toString()]).toEqual([201, '1', 'read me']);
    await t.close();
  });
  it('the real Response is restored after the last server closes', async () => {
    const before = globalThis.Response;
    const t = await startServer(() => new Response('x'));
    expect(globalThis.Response).not.toBe(before);
    await t.close();
    expect(globalThis.Response).toBe(before);
  });
});

describe('close()', () => {
  it('lets an in-flight request finish, closes idle connections, then resolves', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const t = await startServer(async (request) => {
      if (new URL(request.url).pathname === '/slow') await gate;
      return new Response('done');
    });
    const idle = await RawClient.connect(t.port);
    idle.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await idle.readResponse();
    const busy = await RawClient.connect(t.port);
    busy.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    let closed = false;
    const closing = t.close().then(() => (closed = true));
    expect((await idle.expectClosed()).closed).toBe(true);
    expect(closed).toBe(false);
    release();
    const r = await busy.readResponse();
    expect(r.body.toString()).toBe('done');
    expect(r.header('connection')).toBe('close');
    await closing;
    expect(closed).toBe(true);
    await expect(RawClient.connect(t.port)).rejects.toThrow();
  });
});
