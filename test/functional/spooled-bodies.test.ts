// inbuf_overflow: a request body past it goes to a temp file, reaches the app (inline or in a
// worker) whole, and the file is removed when the request ends, on every path.
import { createHash } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exchange, RawClient, startServer } from '../helpers/raw-client.js';
import { until, watchedTmpdir } from '../helpers/wait.js';

// Spooled bodies go under os.tmpdir(); point it at a directory this test can watch.
const spoolDir = watchedTmpdir('waitstate-spool-test-');

const body = Buffer.alloc(3 * 1024 * 1024);
for (let i = 0; i < body.length; i++) body[i] = (i * 31) % 253;
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** This process's open files under the spool directory (worker threads share the process). */
function openSpooledFiles(): string[] {
  const links = readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return ''; // closed meanwhile
    }
  });
  return links.filter((link) => link.startsWith(spoolDir()));
}

describe('request bodies past inbuf_overflow', () => {
  it('reach an inline app whole, from a temp file that is gone once the request ends', async () => {
    let filesDuringRequest = -1;
    const t = await startServer(
      async (request) => {
        filesDuringRequest = readdirSync(spoolDir()).length;
        const bytes = new Uint8Array(await request.arrayBuffer());
        return Response.json({ length: bytes.byteLength, sha: sha(bytes), cl: request.headers.get('content-length') });
      },
      { inbufOverflow: 64 * 1024 },
    );
    const r = await exchange(
      t.port,
      Buffer.concat([Buffer.from(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`), body]),
    );
    expect(JSON.parse(r.body.toString())).toEqual({ length: body.length, sha: sha(body), cl: String(body.length) });
    expect(filesDuringRequest).toBe(1);
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    await t.close();
  });
  it('spools a chunked body too, and keeps small bodies in memory', async () => {
    let filesDuringRequest = -1;
    const t = await startServer(
      async (request) => {
        filesDuringRequest = readdirSync(spoolDir()).length;
        return new Response(sha(new Uint8Array(await request.arrayBuffer())));
      },
      { inbufOverflow: 64 * 1024 },
    );
    const chunks = [];
    for (let i = 0; i < body.length; i += 100_000) {
      const piece = body.subarray(i, i + 100_000);
      chunks.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    }
    const chunked = Buffer.concat([
      Buffer.from('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'),
      ...chunks,
      Buffer.from('0\r\n\r\n'),
    ]);
    expect((await exchange(t.port, chunked)).body.toString()).toBe(sha(body));
    expect(filesDuringRequest).toBe(1);
    const small = Buffer.alloc(1000, 1);
    expect(
      (
        await exchange(t.port, Buffer.concat([Buffer.from('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n'), small]))
      ).body.toString(),
    ).toBe(sha(small));
    expect(filesDuringRequest).toBe(0);
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    await t.close();
  });
  it('reach an app in a worker thread by path', async () => {
    const t = await startServer('test/fixtures/worker-app.mjs:app', { threads: 1, inbufOverflow: 64 * 1024 });
    const r = await exchange(
      t.port,
      Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`), body]),
    );
    let sum = 0;
    for (const byte of body) sum = (sum + byte) % 65521;
    expect(JSON.parse(r.body.toString())).toMatchObject({ length: body.length, sum });
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    await t.close();
  });
  it.runIf(process.platform === 'linux').each([
    ['inline', 0],
    ['in a worker thread', 1],
  ])('hold no open file for a body the app only looks at, or clones and leaves unread (%s)', async (_, threads) => {
    const t = await startServer('test/fixtures/worker-app.mjs:app', { threads, inbufOverflow: 1024 });
    const client = await RawClient.connect(t.port);
    for (const [method, path] of [
      ['POST', '/glance'],
      ['GET', '/glance'],
      ['POST', '/clone-unread'],
    ]) {
      client.write(Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
      expect((await client.readResponse()).body.toString()).toBe('unread');
    }
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    expect(openSpooledFiles()).toEqual([]);
    client.destroy();
    await t.close();
  });
  it('removes the temp file when the client goes away mid-upload', async () => {
    let called = false;
    const t = await startServer(
      () => {
        called = true;
        return new Response('x');
      },
      { inbufOverflow: 64 * 1024 },
    );
    const client = await RawClient.connect(t.port);
    client.write(
      Buffer.concat([Buffer.from(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`), body.subarray(0, 500_000)]),
    );
    expect(await until(() => readdirSync(spoolDir()).length === 1)).toBe(true);
    client.destroy();
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    expect(called).toBe(false);
    await t.close();
  });
  it('answers a whole request whose client half-closes while its body is still being written to disk (RFC 9112 §9.6)', async () => {
    const t = await startServer(
      async (request) => {
        const bytes = new Uint8Array(await request.arrayBuffer());
        return new Response(`${bytes.byteLength} ${sha(bytes)} aborted=${request.signal.aborted}`);
      },
      { inbufOverflow: 64 * 1024 },
    );
    for (let round = 0; round < 3; round++) {
      const client = await RawClient.connect(t.port);
      // The whole request and the FIN in one go: the last writes to the temp file are still
      // under way when the FIN is read.
      client.write(Buffer.concat([Buffer.from(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
      client.end();
      const response = await client.readResponse({ timeoutMs: 3000 });
      expect(response.body.toString()).toBe(`${body.length} ${sha(body)} aborted=true`);
      expect(response.header('connection')).toBe('close');
      expect((await client.expectClosed()).closed).toBe(true);
      client.destroy();
    }
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    await t.close();
  });
  it('answers a request pipelined before a FIN whose body goes to disk only when its turn comes', async () => {
    const t = await startServer(
      async (request) => {
        if (request.method === 'GET') await new Promise((r) => setTimeout(r, 100));
        const bytes = new Uint8Array(await request.arrayBuffer());
        return new Response(`${request.method} ${bytes.byteLength}`);
      },
      { inbufOverflow: 1024 },
    );
    const client = await RawClient.connect(t.port);
    // 30 KB: buffered whole while the GET runs (reading pauses at 64 KiB), spooled after it.
    const upload = body.subarray(0, 30_000);
    client.write(
      Buffer.concat([
        Buffer.from(`GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${upload.length}\r\n\r\n`),
        upload,
      ]),
    );
    client.end();
    expect((await client.readResponse()).body.toString()).toBe('GET 0');
    expect((await client.readResponse({ timeoutMs: 3000 })).body.toString()).toBe(`POST ${upload.length}`);
    expect((await client.expectClosed()).closed).toBe(true);
    client.destroy();
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    await t.close();
  });
  it('removes the temp file of a request whose client goes while a worker runs it, although the app never settles', async () => {
    const t = await startServer('test/fixtures/worker-app.mjs:app', { threads: 1, inbufOverflow: 0, shutdownTimeout: 1 });
    for (const leave of ['reset', 'close'] as const) {
      const client = await RawClient.connect(t.port);
      client.write('POST /hang HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
      expect(await until(() => readdirSync(spoolDir()).length === 1)).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      if (leave === 'reset') client.socket.resetAndDestroy();
      else client.end();
      // A reset ends the task at once; after a close the task waits for an answer that never comes.
      if (leave === 'reset') expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
      else client.destroy();
    }
    await t.close(); // shutdown_timeout ends the half-closed one's task
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
  });
});
