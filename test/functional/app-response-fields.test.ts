// What a Fetch app returns that the server must put right rather than refuse, inline and in
// worker threads: connection-specific fields (dropped, RFC 9110 §7.6.1), HEAD lengths (RFC 9110
// §9.3.2), and what it must still refuse: response splitting, a status outside 200-599.
import { Hono } from 'hono';
import { streamSSE, streamText } from 'hono/streaming';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, RawClient, recordingLogger, startServer, type TestServer } from '../helpers/raw-client.js';

const APP = 'test/fixtures/worker-app.mjs:app';
const request = (path: string, method = 'GET', version = '1.1') =>
  `${method} ${path} HTTP/${version}\r\n${version === '1.1' ? 'Host: a\r\n' : 'Connection: keep-alive\r\n'}\r\n`;
/** The response head as sent, up to its blank line. */
const headOf = (raw: Buffer) => raw.toString('latin1').slice(0, raw.indexOf('\r\n\r\n'));

describe.each([
  ['inline', 0],
  ['in a worker thread', 1],
] as const)('an app %s', (_label, threads) => {
  const log = recordingLogger();
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(APP, { threads, logger: log });
  });
  afterAll(() => t.close());

  describe('connection-specific fields from the app (RFC 9110 §7.6.1)', () => {
    it('are dropped, the fields its Connection names too; the server frames the response and the connection persists', async () => {
      const client = await RawClient.connect(t.port);
      client.write(request('/hop-by-hop') + request('/head/text'));
      const r = await client.readResponse();
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('hop');
      const head = headOf(r.raw).toLowerCase();
      expect(r.header('content-length')).toBe('3');
      for (const name of ['transfer-encoding', 'connection', 'x-private', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']) {
        expect(head).not.toMatch(new RegExp(`\r\n${name}:`));
      }
      expect(r.header('proxy-authenticate')).toBe('Basic realm="proxy"');
      expect(r.header('x-kept')).toBe('yes');
      // The next response follows: the app's "Connection: keep-alive" decided nothing.
      expect((await client.readResponse()).body.toString()).toBe('Hello, World!');
      client.destroy();
    });
    it("a stream with Hono's streamSSE fields is chunked by the server, once", async () => {
      const r = await exchange(t.port, request('/sse'));
      expect(r.status).toBe(200);
      expect(r.all('transfer-encoding')).toEqual(['chunked']);
      expect(r.header('connection')).toBeUndefined();
      expect(r.header('content-type')).toBe('text/event-stream');
      expect(
        r.raw.toString('latin1').endsWith('\r\n\r\n15\r\nevent: tick\ndata: 1\n\n\r\n15\r\nevent: tick\ndata: 2\n\n\r\n0\r\n\r\n'),
      ).toBe(true);
      expect(r.closed).toBe(false);
    });
    it('each drop is logged once per field and route (method and path, not the query), at info level', async () => {
      // GET /hop-by-hop was asked once already, by the first test.
      const client = await RawClient.connect(t.port);
      client.write(
        ['', '?a=1', '?b=2'].map((query) => request(`/hop-by-hop${query}`)).join('') + request('/hop-by-hop?c=3', 'HEAD').repeat(2),
      );
      for (let i = 0; i < 3; i++) await client.readResponse();
      for (let i = 0; i < 2; i++) await client.readResponse({ forHead: true });
      client.destroy();
      const drops = log.lines.filter((line) => line.includes(' /hop-by-hop: dropped'));
      expect(drops.every((line) => line.startsWith('info: '))).toBe(true);
      expect(drops.filter((line) => line.includes('"transfer-encoding"'))).toEqual([
        expect.stringContaining('GET /hop-by-hop: dropped the app\'s "transfer-encoding" field'),
        expect.stringContaining('HEAD /hop-by-hop: dropped the app\'s "transfer-encoding" field'),
      ]);
      // Eight fields dropped per route (x-private, named by Connection, among them); each said once.
      expect(drops).toHaveLength(16);
      expect(log.lines.some((line) => line.startsWith('error:'))).toBe(false);
    });
    it('CR/LF in a connection-specific field is still refused: 500, logged, nothing of it sent', async () => {
      log.lines.length = 0;
      const r = await exchange(t.port, request('/hop-by-hop-crlf'));
      expect(r.status).toBe(500);
      expect(r.raw.toString('latin1')).not.toContain('Injected');
      expect(r.closed).toBe(true);
      expect(log.lines.some((line) => line.startsWith('error:') && line.includes('CR, LF or NUL'))).toBe(true);
      expect(log.lines.some((line) => line.includes('(answered 500): WS_ERR_APP_FIELD: field "connection"'))).toBe(true);
    });
  });

  describe('a status outside 200-599 (RFC 9110 §15)', () => {
    it.each([
      ['/response-error', '0'],
      ['/status-700', '700'],
      ['/status-600-subclass', '600'],
    ])('%s: 500 and an error logged, never "HTTP/1.1 %s"', async (path, status) => {
      log.lines.length = 0;
      const r = await exchange(t.port, request(path));
      expect(r.status).toBe(500);
      expect(r.raw.toString('latin1')).not.toContain(`HTTP/1.1 ${status}`);
      expect(r.closed).toBe(true);
      expect(log.lines.some((line) => line.startsWith('error:') && line.includes(`status ${status}`))).toBe(true);
      expect(log.lines.some((line) => line.includes(`(answered 500): WS_ERR_APP_STATUS_RANGE: the response status ${status}`))).toBe(true);
    });
  });

  it('HEAD of a route that answers Response.error(): the 500 head alone, then the close (RFC 9110 §9.3.2)', async () => {
    const client = await RawClient.connect(t.port);
    client.write(request('/response-error', 'HEAD'));
    const r = await client.readResponse({ forHead: true });
    expect(r.status).toBe(500);
    expect(Number(r.header('content-length'))).toBeGreaterThan(0);
    expect(await client.expectClosed()).toEqual({ closed: true, extra: '' });
    client.destroy();
  });

  it('a Response whose fields cannot be read: 500, logged with WS_ERR_APP_UNREADABLE, and the server goes on', async () => {
    log.lines.length = 0;
    const r = await exchange(t.port, request('/unreadable'));
    expect(r.status).toBe(500);
    expect(log.lines).toEqual([
      'error: waitstate: GET /unreadable: app error before the response head (answered 500): WS_ERR_APP_UNREADABLE: the response could not be read: Error: no headers here',
    ]);
    expect((await exchange(t.port, request('/head/text'))).status).toBe(200);
  });

  describe('HEAD lengths (RFC 9110 §9.3.2)', () => {
    // [path, GET framing, HEAD framing]: HEAD never gets an invented Content-Length: 0.
    it.each([
      ['/head/text', 'content-length: 13', 'content-length: 13'],
      ['/head/bytes', 'content-length: 3', 'content-length: 3'],
      ['/head/declared', 'content-length: 3', 'content-length: 3'],
      ['/head/null', 'content-length: 0', 'none'],
      ['/head/hono', 'content-length: 13', 'none'],
      ['/head/stream', 'transfer-encoding: chunked', 'none'],
    ])('%s: GET %s, HEAD %s; the connection persists', async (path, getFraming, headFraming) => {
      const framing = (raw: Buffer) =>
        headOf(raw)
          .toLowerCase()
          .split('\r\n')
          .filter((line) => /^(content-length|transfer-encoding|connection):/.test(line))
          .join(', ') || 'none';
      const client = await RawClient.connect(t.port);
      client.write(request(path) + request(path, 'HEAD') + request('/head/text'));
      expect(framing((await client.readResponse()).raw)).toBe(getFraming);
      const head = await client.readResponse({ forHead: true });
      expect(head.status).toBe(200);
      expect(framing(head.raw)).toBe(headFraming);
      // Nothing after the HEAD's head but the next response.
      expect((await client.readResponse()).raw.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nHello, World!$/);
      client.destroy();
    });
    it('HTTP/1.0 keep-alive HEAD of a stream: no framing field, and no close', async () => {
      const client = await RawClient.connect(t.port);
      client.write(request('/head/stream', 'HEAD', '1.0') + request('/head/text', 'GET', '1.0'));
      const head = await client.readResponse({ forHead: true });
      expect(head.header('connection')).toBe('keep-alive');
      expect(head.header('content-length')).toBeUndefined();
      expect((await client.readResponse()).body.toString()).toBe('Hello, World!');
      client.destroy();
    });
  });
});

describe('a Hono app served inline', () => {
  const log = recordingLogger();
  let t: TestServer;
  beforeAll(async () => {
    const hono = new Hono();
    hono.get('/sse', (c) =>
      streamSSE(c, async (stream) => {
        for (let i = 1; i <= 3; i++) {
          await stream.writeSSE({ event: 'tick', id: String(i), data: `n=${i}` });
          await stream.sleep(5);
        }
      }),
    );
    hono.get('/text-stream', (c) =>
      streamText(c, async (stream) => {
        await stream.write('Hello');
        await stream.sleep(5);
        await stream.writeln(', World!');
      }),
    );
    hono.get('/text', (c) => c.text('Hello, World!'));
    t = await startServer(hono.fetch, { logger: log });
  });
  afterAll(() => t.close());

  it('streamSSE: 200, the events arrive in chunks framed by the server, and the connection persists', async () => {
    const client = await RawClient.connect(t.port);
    client.write(request('/sse') + request('/text'));
    const r = await client.readResponse();
    expect(r.status).toBe(200);
    expect(r.header('content-type')).toBe('text/event-stream');
    expect(r.all('transfer-encoding')).toEqual(['chunked']);
    expect(r.header('connection')).toBeUndefined();
    expect(r.body.toString()).toBe(['1', '2', '3'].map((n) => `event: tick\ndata: n=${n}\nid: ${n}\n\n`).join(''));
    expect(r.raw.toString('latin1')).toMatch(/\r\n\r\n[0-9A-F]+\r\nevent: tick\n/);
    expect((await client.readResponse()).body.toString()).toBe('Hello, World!');
    client.destroy();
    expect(log.lines.filter((line) => line.startsWith('info: ') && line.includes('GET /sse: dropped'))).toHaveLength(2);
  });
  it('streamText: 200, chunked by the server', async () => {
    const r = await exchange(t.port, request('/text-stream'));
    expect(r.status).toBe(200);
    expect(r.all('transfer-encoding')).toEqual(['chunked']);
    expect(r.header('x-content-type-options')).toBe('nosniff');
    expect(r.body.toString()).toBe('Hello, World!\n');
    expect(r.closed).toBe(false);
  });
  it('HEAD of a text route: no invented Content-Length: 0 (GET sends 13)', async () => {
    const get = await exchange(t.port, request('/text'));
    expect(get.header('content-length')).toBe('13');
    const head = await exchange(t.port, request('/text', 'HEAD'), { forHead: true });
    expect(head.status).toBe(200);
    expect(head.header('content-length')).toBeUndefined();
    expect(head.header('content-type')).toMatch(/^text\/plain/);
    expect(head.closed).toBe(false);
  });
});

describe('the log of dropped fields', () => {
  it('remembers at most 2048 field and route pairs, and says when it stops', async () => {
    const log = recordingLogger();
    const t = await startServer(() => new Response('x', { headers: { 'transfer-encoding': 'chunked' } }), { logger: log });
    const client = await RawClient.connect(t.port);
    const routes = 2100;
    client.write(Array.from({ length: routes }, (_, i) => request(`/r${i}`)).join(''));
    for (let i = 0; i < routes; i++) await client.readResponse();
    client.destroy();
    await t.close();
    const drops = log.lines.filter((line) => line.includes('dropped'));
    expect(drops).toHaveLength(2048);
    expect(drops[2047]).toMatch(/^info: waitstate: GET \/r2047: dropped .*\(2048 field and route pairs logged: no more will be\)$/);
  });
});
