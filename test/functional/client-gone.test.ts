// request.signal aborts when the client goes away while the app is still working, inline and in
// a worker thread, so an app can stop work nobody will read. "Goes away" is a close (FIN) or a
// reset, as node:http, Deno and Bun see it. After a FIN the client may only have half-closed on
// purpose (RFC 9112 §9.6), so whatever the app still answers is sent, as Go does; after a reset
// nothing is.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RawClient, startServer } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';

describe('request.signal', () => {
  it('aborts for an inline app when the client resets the connection', async () => {
    let outcome = '';
    const t = await startServer(async (request) => {
      await new Promise((resolve) => {
        request.signal.addEventListener('abort', resolve);
        setTimeout(resolve, 3000);
      });
      outcome = request.signal.aborted ? 'aborted' : 'timeout';
      return new Response('late');
    });
    const client = await RawClient.connect(t.port);
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    client.socket.resetAndDestroy();
    expect(await until(() => outcome !== '')).toBe(true);
    expect(outcome).toBe('aborted');
    await t.close();
  });
  it('aborts for an app in a worker thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waitstate-abort-'));
    const mark = join(dir, 'mark');
    const t = await startServer('test/fixtures/worker-app.mjs:app', { threads: 1 });
    const client = await RawClient.connect(t.port);
    client.write(`GET /abort-probe?mark=${encodeURIComponent(mark)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 150));
    client.socket.resetAndDestroy();
    expect(await until(() => existsSync(mark))).toBe(true);
    expect(readFileSync(mark, 'utf8')).toBe('aborted');
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });
  it('aborts for an inline app when the client half-closes (FIN), and still sends what the app answers', async () => {
    let sawAbort = false;
    const t = await startServer(async (request) => {
      await new Promise((resolve) => {
        request.signal.addEventListener('abort', resolve);
        setTimeout(resolve, 3000);
      });
      sawAbort = request.signal.aborted;
      return new Response(request.signal.aborted ? 'aborted' : 'kept');
    });
    const client = await RawClient.connect(t.port);
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const sent = Date.now();
    client.end();
    const response = await client.readResponse();
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(response.body.toString()).toBe('aborted');
    expect(response.header('connection')).toBe('close');
    expect(sawAbort).toBe(true);
    await t.close();
  });
  it('aborts in a worker thread when the client half-closes, and still sends the answer', async () => {
    const t = await startServer('test/fixtures/worker-app.mjs:app', { threads: 1 });
    const client = await RawClient.connect(t.port);
    client.write('GET /signal?ms=3000 HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    client.end();
    expect((await client.readResponse({ timeoutMs: 1500 })).body.toString()).toBe('aborted');
    await t.close();
  });
  it("cancels an app's own upstream fetch made with request.signal, from a worker thread", async () => {
    let upstreamClosed = false;
    const upstream = createServer((req) => req.socket.on('close', () => (upstreamClosed = true))); // never answers
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const to = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`;
    const t = await startServer('test/fixtures/worker-app.mjs:app', { threads: 1 });
    const client = await RawClient.connect(t.port);
    client.write(`GET /proxy?to=${encodeURIComponent(to)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 200));
    expect(upstreamClosed).toBe(false);
    client.end();
    expect(await until(() => upstreamClosed, 2000)).toBe(true);
    // The app's answer to a client that only half-closed still goes out.
    expect((await client.readResponse()).body.toString()).toBe('upstream: AbortError');
    await t.close();
    upstream.close();
  });
  it('aborts a request pipelined before the FIN when its turn comes', async () => {
    const outcomes: string[] = [];
    const t = await startServer(async (request) => {
      await new Promise((r) => setTimeout(r, 50));
      outcomes.push(`${new URL(request.url).pathname} ${request.signal.aborted ? 'aborted' : 'kept'}`);
      return new Response('ok');
    });
    const client = await RawClient.connect(t.port);
    client.write('GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n');
    client.end();
    expect((await client.readResponse()).status).toBe(200);
    expect((await client.readResponse()).status).toBe(200);
    expect(outcomes).toEqual(['/a aborted', '/b aborted']);
    await t.close();
  });
  it('answers the whole request before a FIN even when a cut-short one follows it', async () => {
    const t = await startServer(async (request) => {
      await new Promise((r) => setTimeout(r, 20));
      return new Response(`ok ${new URL(request.url).pathname}`);
    });
    const client = await RawClient.connect(t.port);
    client.write('GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HT');
    client.end();
    const response = await client.readResponse();
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ok /a');
    await t.close();
  });
  it('does not abort once the response is complete', async () => {
    let signal: AbortSignal | undefined;
    const t = await startServer((request) => {
      signal = request.signal;
      return new Response('ok');
    });
    const client = await RawClient.connect(t.port);
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect((await client.readResponse()).status).toBe(200);
    client.end();
    await new Promise((r) => setTimeout(r, 100));
    expect(signal?.aborted).toBe(false);
    await t.close();
  });
});
