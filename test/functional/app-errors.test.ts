// What the server does when the app misbehaves: 500 before the head, a close after it, and
// nothing unsafe on the wire.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_PROBLEM } from '../../src/errors.js';
import { exchange, RawClient, recordingLogger, startServer, type TestServer } from '../helpers/raw-client.js';

function failingStream(): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(new TextEncoder().encode('12345'));
      } else {
        controller.error(new Error('stream broke'));
      }
    },
  });
}

const routes: Record<string, () => Response | Promise<Response>> = {
  '/throw': () => {
    throw new Error('boom €');
  },
  '/reject': () => Promise.reject(new Error('async boom')),
  '/not-a-response': () => ({ status: 200 }) as unknown as Response,
  '/response-error': () => Response.error(),
  '/crlf': () => new Response('x', { headers: [['x-a', 'ok']] }),
  '/after-head': () => new Response(failingStream()),
  '/after-head-cl': () => new Response(failingStream(), { headers: { 'content-length': '10' } }),
  '/short': () => new Response('abc', { headers: { 'content-length': '10' } }),
  '/long': () => new Response('abcdefghij', { headers: { 'content-length': '4' } }),
  '/bad-cl': () => new Response('abc', { headers: { 'content-length': 'three' } }),
  '/used-body': async () => {
    const response = new Response('x');
    await response.text();
    return response;
  },
  '/status-crlf': () => new Response('x', { statusText: 'OK\r\nInjected: yes' }),
  '/throw-coded': () => {
    throw Object.assign(new Error('no database'), { code: 'ERR_X' });
  },
  '/unreadable': () => new UnreadableResponse(),
  // What a factory served as the app answers: an app.
  '/returns-handler': () => (() => new Response('x')) as unknown as Response,
  '/returns-app': async () => ({ fetch: () => new Response('x') }) as unknown as Response,
};

/** A Response whose fields cannot be read (undici's: the class is taken before serve() installs its own). */
class UnreadableResponse extends Response {
  constructor() {
    super('x');
    Object.defineProperty(this, 'headers', {
      get: () => {
        throw new Error('no headers here');
      },
    });
  }
}

const log = recordingLogger();
let t: TestServer;
let traced: TestServer;
beforeAll(async () => {
  const app = (request: Request) => routes[new URL(request.url).pathname]!();
  t = await startServer(app, { logger: log });
  traced = await startServer(app, { exposeTracebacks: true, logger: log });
});
afterAll(async () => {
  await t.close();
  await traced.close();
});

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;

describe('app errors before the response head: 500 and close', () => {
  it.each(['/throw', '/reject', '/not-a-response', '/response-error', '/used-body'])('%s', async (path) => {
    log.lines.length = 0;
    const r = await exchange(t.port, get(path));
    expect(r.status).toBe(500);
    expect(r.header('connection')).toBe('close');
    expect(r.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(r.body.toString()).toContain('Internal Server Error');
    expect(r.body.toString()).not.toContain('boom');
    expect(r.closed).toBe(true);
    expect(log.lines.some((l) => l.startsWith('error:'))).toBe(true);
  });
  it('puts the traceback in the body only with expose_tracebacks, Content-Length in UTF-8 bytes', async () => {
    const r = await exchange(traced.port, get('/throw'));
    expect(r.status).toBe(500);
    expect(r.body.toString('utf8')).toContain('boom €');
    expect(Number(r.header('content-length'))).toBe(r.body.byteLength);
  });
  it('refuses CR/LF in the status text with 500, nothing of it on the wire', async () => {
    const r = await exchange(t.port, get('/status-crlf'));
    expect(r.status).toBe(500);
    expect(r.raw.toString('latin1')).not.toContain('Injected');
  });
  it('refuses an invalid app Content-Length with 500', async () => {
    expect((await exchange(t.port, get('/bad-cl'))).status).toBe(500);
  });
  it('refuses CR/LF in a field value before anything is sent (the Headers class throws in the app)', async () => {
    const crlf = await startServer(() => new Response('x', { headers: { 'x-a': 'a\r\nInjected: yes' } }), { logger: log });
    const r = await exchange(crlf.port, get('/'));
    expect(r.status).toBe(500);
    expect(r.raw.toString('latin1')).not.toContain('Injected');
    await crlf.close();
  });
});

describe('what the log says of an app error: its code', () => {
  it.each([
    ['/not-a-response', 'WS_ERR_APP_NOT_A_RESPONSE', 'the app returned object, not a Response'],
    ['/response-error', 'WS_ERR_APP_STATUS_RANGE', 'the response status 0 cannot be sent: a final status is 200 to 599 (RFC 9110 §15)'],
    ['/used-body', 'WS_ERR_APP_BODY_USED', 'the response body was already read'],
    ['/status-crlf', 'WS_ERR_APP_STATUS_TEXT', 'the status text contains CR or LF (RFC 9112 §4)'],
    ['/bad-cl', 'WS_ERR_APP_CONTENT_LENGTH', 'field "content-length" is not one valid length: "three" (RFC 9110 §8.6)'],
    ['/unreadable', 'WS_ERR_APP_UNREADABLE', 'the response could not be read: Error: no headers here'],
    ['/throw-coded', 'ERR_X', 'no database'],
  ])('%s: %s', async (path, code, message) => {
    log.lines.length = 0;
    expect((await exchange(t.port, get(path))).status).toBe(500);
    expect(log.lines).toEqual([`error: waitstate: GET ${path}: app error before the response head (answered 500): ${code}: ${message}`]);
  });
  it('an app that returns an app: WS_ERR_APP_FACTORY, and the first time, that the app looks like a factory', async () => {
    log.lines.length = 0;
    for (const path of ['/returns-handler', '/returns-app', '/returns-handler'])
      expect((await exchange(t.port, get(path))).status).toBe(500);
    const prefix = (path: string) =>
      `error: waitstate: GET ${path}: app error before the response head (answered 500): WS_ERR_APP_FACTORY:`;
    expect(log.lines).toEqual([
      `${prefix('/returns-handler')} the app returned a function, not a Response; the app looks like a factory: serve what it returns, serve(factory())`,
      `${prefix('/returns-app')} the app returned an app (an object with a fetch method), not a Response`,
      `${prefix('/returns-handler')} the app returned a function, not a Response`,
    ]);
  });
  it('an error without a code is logged as it was', async () => {
    log.lines.length = 0;
    await exchange(t.port, get('/throw'));
    expect(log.lines).toEqual(['error: waitstate: GET /throw: app error before the response head (answered 500): boom €']);
  });
});

describe('app errors after the response head: the connection closes', () => {
  it('a chunked body that fails is left unterminated', async () => {
    const client = await RawClient.connect(t.port);
    client.write(get('/after-head'));
    const { closed, extra } = await client.expectClosed();
    expect(closed).toBe(true);
    expect(extra).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(extra.endsWith('\r\n\r\n5\r\n12345\r\n')).toBe(true);
  });
  it('a body with a Content-Length that fails is left short', async () => {
    const client = await RawClient.connect(t.port);
    client.write(get('/after-head-cl'));
    const { closed, extra } = await client.expectClosed();
    expect(closed).toBe(true);
    expect(extra).toMatch(/Content-Length: 10\r\n/i);
    expect(extra.endsWith('\r\n\r\n12345')).toBe(true);
  });
  it('a body shorter than its Content-Length closes the connection', async () => {
    const r = await exchange(t.port, get('/short'));
    expect(r.header('content-length')).toBe('10');
    expect(r.body.toString()).toBe('abc');
    expect(r.closed).toBe(true);
  });
  it('a body longer than its Content-Length is cut and logged; the connection persists', async () => {
    log.lines.length = 0;
    const r = await exchange(t.port, get('/long'));
    expect(r.body.toString()).toBe('abcd');
    expect(r.closed).toBe(false);
    expect(log.lines.some((l) => l.includes('cut'))).toBe(true);
  });
});

describe('docs/usage.md lists every code src/errors.ts makes', () => {
  const docs = readFileSync('docs/usage.md', 'utf8');
  const codes = [...readFileSync('src/errors.ts', 'utf8').matchAll(/'(WS_ERR_[A-Z_]+)'/g)].map((m) => m[1]!);
  it.each(codes)('%s', (code) => {
    expect(docs).toContain(`| \`${code}\` |`);
  });
  it.each(Object.values(APP_PROBLEM))('$code with its reason', ({ code, reason }) => {
    expect(docs).toContain(`| \`${code}\` | ${reason} |`);
  });
});

describe('the docs list every code a refusal on the wire carries (src/http/errors.ts, src/http/websocket.ts)', () => {
  // The catalogue (docs/edge-cases.md) shows most, case by case; docs/usage.md lists the others.
  const docs = readFileSync('docs/usage.md', 'utf8') + readFileSync('docs/edge-cases.md', 'utf8');
  const codes = ['src/http/errors.ts', 'src/http/websocket.ts'].flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/'(WS_ERR_[A-Z_]+)'/g)].map((m) => m[1]!),
  );
  it.each(codes)('%s', (code) => {
    expect(docs).toContain(`\`${code}\``);
  });
});
