// Deadlines over real sockets: a request on its way in must keep to header_timeout and
// body_min_rate (408, then close), the app to handler_timeout (503 before its head, a close
// after), and none of them cuts what it should not. The supervisor checks every second, so each
// case takes a second or two; the decisions themselves are tested without clocks in
// test/machines/machines.test.ts.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RawClient, recordingLogger, startServer } from '../helpers/raw-client.js';
import { until, watchedTmpdir } from '../helpers/wait.js';

const spoolDir = watchedTmpdir('waitstate-deadline-test-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const get = (path = '/') => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;

/** Send `text` a piece at a time, every `everyMs`, until done or the server closes. */
async function trickle(client: RawClient, text: string, pieceBytes: number, everyMs: number): Promise<void> {
  for (let at = 0; at < text.length && !client.ended; at += pieceBytes) {
    client.write(text.slice(at, at + pieceBytes));
    await sleep(everyMs);
  }
}

describe.concurrent('header_timeout', () => {
  it('answers 408 to a head still incomplete header_timeout after its first byte, then closes', async () => {
    const log = recordingLogger();
    const t = await startServer(() => new Response('ok'), { headerTimeout: 1, logger: log });
    const client = await RawClient.connect(t.port);
    const started = Date.now();
    void trickle(client, 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' + 'x'.repeat(100), 1, 100);
    const response = await client.readResponse({ timeoutMs: 4000 });
    const elapsed = Date.now() - started;
    expect(response.status).toBe(408);
    expect(response.header('connection')).toBe('close');
    expect(response.body.toString()).toMatch(/within 1 s of its first byte/);
    expect((await client.expectClosed()).closed).toBe(true);
    // Late by at most one sweep (a second).
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(2600);
    expect(log.lines.some((l) => /408 WS_ERR_HEAD_TIMEOUT/.test(l))).toBe(true);
    client.destroy();
    await t.close();
  });
  it('answers a HEAD whose head is late with the 408 head alone (RFC 9110 §9.3.2)', async () => {
    const t = await startServer(() => new Response('ok'), { headerTimeout: 1 });
    const client = await RawClient.connect(t.port);
    client.write('HEAD / HTTP/1.1\r\nHost: a\r\nX-Slow: x');
    const response = await client.readResponse({ forHead: true, timeoutMs: 4000 });
    expect(response.status).toBe(408);
    expect(await client.expectClosed()).toEqual({ closed: true, extra: '' });
    client.destroy();
    await t.close();
  });
  it('leaves a connection that has sent nothing to channel_timeout, and serves it when it asks', async () => {
    const t = await startServer(() => new Response('ok'), { headerTimeout: 1 });
    const client = await RawClient.connect(t.port);
    expect(await client.settle(2300)).toBe('');
    expect(client.ended).toBe(false);
    client.write(get());
    expect((await client.readResponse()).status).toBe(200);
    client.destroy();
    await t.close();
  });
  it('serves a head that arrives in pieces within the deadline, and the next request gets its own', async () => {
    const t = await startServer(() => new Response('ok'), { headerTimeout: 2 });
    const client = await RawClient.connect(t.port);
    await trickle(client, get(), 8, 150); // 37 bytes over ~0.7 s
    expect((await client.readResponse()).status).toBe(200);
    await sleep(1500); // idle between requests: not a head's time
    await trickle(client, get(), 8, 150);
    expect((await client.readResponse()).status).toBe(200);
    client.destroy();
    await t.close();
  });
});

describe('body_min_rate and body_grace_period', () => {
  it('answers 408 to a body slower than body_min_rate after its grace period, and removes its temp file', async () => {
    const log = recordingLogger();
    let appCalled = false;
    const t = await startServer(
      () => {
        appCalled = true;
        return new Response('ok');
      },
      { bodyMinRate: 100, bodyGracePeriod: 1, inbufOverflow: 0, logger: log },
    );
    const client = await RawClient.connect(t.port);
    client.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n');
    const started = Date.now();
    void trickle(client, 'y'.repeat(1000), 5, 100); // 50 B/s
    const response = await client.readResponse({ timeoutMs: 4000 });
    expect(response.status).toBe(408);
    expect(response.body.toString()).toMatch(/less than 100 bytes per second after its first 1 s/);
    expect(Date.now() - started).toBeLessThan(2600);
    expect((await client.expectClosed()).closed).toBe(true);
    expect(appCalled).toBe(false);
    expect(log.lines.some((l) => /408 WS_ERR_BODY_TOO_SLOW/.test(l))).toBe(true);
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    client.destroy();
    await t.close();
  });
  it('serves a slow body that keeps the rate', async () => {
    const t = await startServer(async (request) => new Response(String((await request.arrayBuffer()).byteLength)), {
      bodyMinRate: 100,
      bodyGracePeriod: 1,
    });
    const client = await RawClient.connect(t.port);
    client.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1200\r\n\r\n');
    await trickle(client, 'z'.repeat(1200), 60, 200); // 300 B/s for 4 s
    const response = await client.readResponse();
    expect([response.status, response.body.toString()]).toEqual([200, '1200']);
    client.destroy();
    await t.close();
  });
  it('holds a body invited by 100 Continue to the same rate', async () => {
    const t = await startServer(() => new Response('ok'), { bodyMinRate: 100, bodyGracePeriod: 1 });
    const client = await RawClient.connect(t.port);
    client.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n');
    expect((await client.readResponse()).status).toBe(100);
    expect((await client.readResponse({ timeoutMs: 4000 })).status).toBe(408);
    client.destroy();
    await t.close();
  });
});

describe('handler_timeout', () => {
  it('answers 503 when the app has not answered in time, aborts request.signal, and closes', async () => {
    const log = recordingLogger();
    let aborted = false;
    const t = await startServer(
      (request) =>
        new Promise<Response>(() => {
          request.signal.addEventListener('abort', () => (aborted = true));
        }),
      { handlerTimeout: 1, logger: log },
    );
    const client = await RawClient.connect(t.port);
    client.write(get());
    const response = await client.readResponse({ timeoutMs: 4000 });
    expect(response.status).toBe(503);
    expect((await client.expectClosed()).closed).toBe(true);
    expect(aborted).toBe(true);
    expect(log.lines.some((l) => /not finished within handler_timeout \(1 s\); answered 503/.test(l))).toBe(true);
    client.destroy();
    await t.close();
  });
  it('closes the connection when the response has begun, so the client sees it cut', async () => {
    const t = await startServer(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('first'));
            },
          }),
        ),
      { handlerTimeout: 1 },
    );
    const client = await RawClient.connect(t.port);
    client.write(get());
    const { closed, extra } = await client.expectClosed(4000);
    expect(closed).toBe(true);
    expect(extra).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(extra).toMatch(/\r\n5\r\nfirst\r\n$/); // no last chunk
    client.destroy();
    await t.close();
  });
  it('removes a spooled request body when the deadline ends the task', async () => {
    const t = await startServer(() => new Promise<Response>(() => {}), { handlerTimeout: 1, inbufOverflow: 0 });
    const client = await RawClient.connect(t.port);
    client.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
    await sleep(200);
    expect(readdirSync(spoolDir()).length).toBe(1);
    expect((await client.readResponse({ timeoutMs: 4000 })).status).toBe(503);
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    client.destroy();
    await t.close();
  });
  it('in a worker: a hung app gets 503 and its slot back; one stuck in a loop loses its thread, which is replaced', async () => {
    const t = await startServer('test/fixtures/worker-app.mjs:app', { threads: 1, threadConcurrency: 1, handlerTimeout: 1 });
    for (const path of ['/hang', '/spin']) {
      const client = await RawClient.connect(t.port);
      client.write(get(path));
      expect((await client.readResponse({ timeoutMs: 4000 })).status).toBe(503);
      client.destroy();
      const next = await RawClient.connect(t.port);
      next.write(get('/hello'));
      expect((await next.readResponse({ timeoutMs: 4000 })).status).toBe(200);
      next.destroy();
    }
    await t.close();
  });
  it('never cuts a request that runs longer than the other deadlines', async () => {
    const t = await startServer(
      async () => {
        await sleep(2200);
        return new Response('done');
      },
      { headerTimeout: 1, bodyMinRate: 1000, bodyGracePeriod: 0 },
    );
    const client = await RawClient.connect(t.port);
    client.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok');
    expect((await client.readResponse({ timeoutMs: 4000 })).body.toString()).toBe('done');
    client.destroy();
    await t.close();
  });
});
