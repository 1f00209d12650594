// A body on any method reaches the app through the usual Request API, GET and HEAD included,
// which Fetch's own Request constructor would refuse (RFC 9110 §9.3.1: a GET body has no generally
// defined semantics, but the server delivers it; Elasticsearch-style search APIs rely on it).
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, RawClient, startServer, type TestServer } from '../helpers/raw-client.js';
import { until, watchedTmpdir } from '../helpers/wait.js';

const APP = 'test/fixtures/worker-app.mjs:app';
// Spooled bodies go under os.tmpdir(); point it at a directory this test can watch.
const spoolDir = watchedTmpdir('waitstate-any-method-');

interface MethodBody {
  method: string;
  isRequest: boolean;
  used: boolean;
  /** The body read, as text (up to 64 bytes) or its SHA-256; null when `request.body` was null. */
  body: string | null;
}

function withBody(method: string, read: string, body: string | Buffer, extra = ''): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const head = `${method} /method-body?read=${read} HTTP/1.1\r\nHost: a\r\n${extra}Content-Length: ${bytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), bytes]);
}

/** Send one request on the connection and read what the app saw (from the header, so HEAD works too). */
async function ask(client: RawClient, method: string, request: Buffer | string): Promise<MethodBody> {
  client.write(request);
  const response = await client.readResponse({ forHead: method === 'HEAD' });
  expect(response.status).toBe(200);
  return JSON.parse(response.header('x-echo')!) as MethodBody;
}

const hasBytes = 'bytes' in Request.prototype;

describe.each([
  ['inline', 0],
  ['in worker threads', 2],
])('a body on any method (%s)', (_, threads) => {
  let t: TestServer;
  let client: RawClient;
  beforeAll(async () => {
    t = await startServer(APP, { threads });
    client = await RawClient.connect(t.port);
  });
  afterAll(async () => {
    client.destroy();
    await t.close();
  });

  it.each(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'PUT', 'POST', 'PURGE'])(
    '%s: read with text(), json() and the body stream, also after request.signal built the real Request',
    async (method) => {
      for (const read of ['text', 'stream', 'signal']) {
        expect(await ask(client, method, withBody(method, read, 'hello'))).toEqual({ method, isRequest: true, used: true, body: 'hello' });
      }
      expect(
        await ask(client, method, withBody(method, 'json', '{"query":{"match":{"a":1}}}', 'Content-Type: application/json\r\n')),
      ).toEqual({
        method,
        isRequest: true,
        used: true,
        body: '{"query":{"match":{"a":1}}}',
      });
    },
  );

  it.each(['GET', 'HEAD'])('%s: every reader of the Body mixin, and clone()', async (method) => {
    const reads: [string, string, string][] = [
      ['arrayBuffer', 'bytes!', ''],
      ['blob', 'a blob', 'Content-Type: text/plain\r\n'],
      ['formData', 'q=x&size=10', 'Content-Type: application/x-www-form-urlencoded\r\n'],
      ['clone', 'twice', ''],
    ];
    if (hasBytes) reads.push(['bytes', 'as bytes', '']);
    const expected: Record<string, string> = { blob: 'text/plain:a blob' };
    for (const [read, body, extra] of reads) {
      const echo = await ask(client, method, withBody(method, read, body, extra));
      expect(echo, read).toEqual({ method, isRequest: true, used: true, body: expected[read] ?? body });
    }
  });

  it('a chunked GET body too', async () => {
    const request = 'GET /method-body?read=text HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
    expect(await ask(client, 'GET', request)).toMatchObject({ method: 'GET', body: 'abcde' });
  });

  it('a GET without a body has none: request.body is null', async () => {
    for (const read of ['stream', 'signal', 'clone']) {
      const echo = await ask(client, 'GET', `GET /method-body?read=${read} HTTP/1.1\r\nHost: a\r\n\r\n`);
      expect(echo, read).toEqual({ method: 'GET', isRequest: true, used: false, body: null });
    }
    // An empty body is no body either: Content-Length: 0, or a chunked body of no chunks.
    expect(await ask(client, 'GET', withBody('GET', 'stream', ''))).toMatchObject({ body: null });
    const noChunks = 'GET /method-body?read=stream HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    expect(await ask(client, 'GET', noChunks)).toMatchObject({ body: null });
    expect(await ask(client, 'GET', withBody('GET', 'text', ''))).toMatchObject({ body: '' });
  });

  it('a GET body past inbuf_overflow, read from its temp file', async () => {
    const spooling = await startServer(APP, { threads, inbufOverflow: 1024 });
    const body = Buffer.alloc(200_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 251;
    const sha = createHash('sha256').update(body).digest('hex');
    const spooled = await RawClient.connect(spooling.port);
    for (const method of ['GET', 'HEAD']) {
      for (const read of ['arrayBuffer', 'stream', 'signal', 'clone']) {
        expect(await ask(spooled, method, withBody(method, read, body)), `${method} ${read}`).toMatchObject({ method, body: sha });
      }
    }
    spooled.destroy();
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    await spooling.close();
  });
});

describe('a Hono app', () => {
  it('reads a GET body with c.req.json()', async () => {
    const app = new Hono();
    app.get('/search', async (c) => {
      const query: unknown = await c.req.json();
      return c.json({ query, again: await c.req.text() });
    });
    const t = await startServer(app);
    const body = '{"query":{"term":{"user":"kimchy"}}}';
    const r = await exchange(
      t.port,
      `GET /search HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ query: JSON.parse(body), again: body });
    await t.close();
  });
});
