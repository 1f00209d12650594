// A real Hono app, unchanged, with Hono's own helpers (streaming, SSE, JSON, redirects, compress,
// the streaming JSX renderer), inline and from worker threads. Every route is asked with GET and
// with HEAD on one keep-alive connection, and the bytes on the wire are checked.
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, recordingLogger, startServer, type RawResponse, type TestServer } from '../helpers/raw-client.js';

const APP = 'test/fixtures/hono-app.mjs:app';

/** GET then HEAD of `path`, pipelined on one connection (so the HEAD must leave it usable). */
async function getAndHead(port: number, path: string): Promise<{ get: RawResponse; head: RawResponse; after: RawResponse }> {
  const client = await RawClient.connect(port);
  const ask = (method: string, target: string) => `${method} ${target} HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n`;
  client.write(ask('GET', path) + ask('HEAD', path) + ask('GET', '/text'));
  const get = await client.readResponse();
  const head = await client.readResponse({ forHead: true });
  const after = await client.readResponse();
  client.destroy();
  return { get, head, after };
}

/** One framing field, set by the server; none of the app's hop-by-hop fields survive. */
function expectServerFraming(r: RawResponse): void {
  expect(r.all('transfer-encoding').length + r.all('content-length').length).toBe(1);
  expect(r.all('connection')).toEqual([]);
  expect(r.all('keep-alive')).toEqual([]);
}

/** RFC 9110 §9.3.2: HEAD carries GET's fields, never a length GET would not have sent. */
function expectHeadMirrorsGet(get: RawResponse, head: RawResponse): void {
  expect(head.status).toBe(get.status);
  expect(head.header('content-type')).toBe(get.header('content-type'));
  const length = head.header('content-length');
  if (length !== undefined) expect(length).toBe(get.header('content-length'));
  expect(head.all('connection')).toEqual([]);
}

describe.each([
  ['inline', { threads: 0 }],
  ['in worker threads', { threads: 2 }],
])('a Hono app served %s', (_mode, options) => {
  let t: TestServer;
  const log = recordingLogger();
  beforeAll(async () => {
    t = await startServer(APP, { ...options, logger: log });
  });
  afterAll(() => t.close());

  it('c.text and c.json: a Content-Length of the body; HEAD has the same one or none, never 0', async () => {
    for (const [path, body] of [
      ['/text', 'Hello, Hono!!'],
      ['/json', '{"ok":true,"n":1}'],
    ] as const) {
      const { get, head, after } = await getAndHead(t.port, path);
      expect(get.status).toBe(200);
      expect(get.body.toString()).toBe(body);
      expect(get.header('content-length')).toBe(String(body.length));
      expectHeadMirrorsGet(get, head);
      expect(head.header('content-length')).not.toBe('0');
      expect(after.body.toString()).toBe('Hello, Hono!!');
    }
  });

  it('c.redirect: 302 with its Location', async () => {
    const { get, head } = await getAndHead(t.port, '/redirect');
    expect(get.status).toBe(302);
    expect(get.header('location')).toBe('/text');
    expectHeadMirrorsGet(get, head);
    expect(head.header('location')).toBe('/text');
  });

  it('streamSSE: events arrive, framed chunked by the server', async () => {
    const { get, head, after } = await getAndHead(t.port, '/sse');
    expect(get.status).toBe(200);
    expect(get.header('content-type')).toMatch(/^text\/event-stream/);
    expect(get.header('transfer-encoding')).toBe('chunked');
    expectServerFraming(get);
    expect(get.body.toString()).toBe([1, 2, 3].map((id) => `event: tick\ndata: tick ${id}\nid: ${id}\n\n`).join(''));
    expectHeadMirrorsGet(get, head);
    expect(after.status).toBe(200);
  });

  it('streamText and stream: bodies of unknown length, chunked', async () => {
    const text = await getAndHead(t.port, '/stream-text');
    expect(text.get.status).toBe(200);
    expectServerFraming(text.get);
    expect(text.get.body.toString()).toBe('one\ntwo');
    expectHeadMirrorsGet(text.get, text.head);
    const bytes = await getAndHead(t.port, '/stream');
    expect(bytes.get.body.toString()).toBe('abc');
    expectServerFraming(bytes.get);
    expectHeadMirrorsGet(bytes.get, bytes.head);
  });

  it('c.body with a ReadableStream', async () => {
    const { get, head } = await getAndHead(t.port, '/body-stream');
    expect(get.body.toString()).toBe('from a stream');
    expect(get.header('transfer-encoding')).toBe('chunked');
    expectHeadMirrorsGet(get, head);
  });

  it('compress(): a gzip body that unzips to what the route wrote', async () => {
    const { get, head } = await getAndHead(t.port, '/compressed');
    expect(get.header('content-encoding')).toBe('gzip');
    expect(gunzipSync(get.body).toString()).toBe('compress me '.repeat(200));
    expectServerFraming(get);
    expect(head.status).toBe(200);
    expect(head.header('content-length')).not.toBe('0');
  });

  it('the streaming JSX renderer: the fallback first, then what Suspense waited for', async () => {
    const { get, head } = await getAndHead(t.port, '/jsx');
    expect(get.status).toBe(200);
    expect(get.header('content-type')).toMatch(/^text\/html/);
    expectServerFraming(get);
    const html = get.body.toString();
    expect(html.indexOf('loading')).toBeGreaterThan(-1);
    expect(html.indexOf('arrived')).toBeGreaterThan(html.indexOf('loading'));
    expectHeadMirrorsGet(get, head);
  });

  it('logs nothing as an error', () => {
    expect(log.lines.filter((line) => line.startsWith('error') || line.startsWith('warn'))).toEqual([]);
  });
});
