// connection_limit and backlog: at the limit the oldest connection that has not sent a whole head
// is shed to make room; when none can be, a connection is not taken as a channel until one closes
// (it waits unread, as in Waitress, where it waits in the kernel's backlog).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RawClient, recordingLogger, startServer } from '../helpers/raw-client.js';

const get = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
const busy = 'GET /busy HTTP/1.1\r\nHost: a\r\n\r\n';

/** An app whose /busy requests run until release() is called. */
function gatedApp(): { app: (request: Request) => Promise<Response>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const app = async (request: Request) => {
    if (new URL(request.url).pathname === '/busy') await gate;
    return new Response('ok');
  };
  return { app, release };
}

describe('connection_limit', () => {
  it('sheds the oldest connection without a whole head: an idle one silently, a begun head with 408', async () => {
    const log = recordingLogger();
    const t = await startServer(() => new Response('ok'), { connectionLimit: 2, logger: log });
    const idle = await RawClient.connect(t.port);
    idle.write(get);
    expect((await idle.readResponse()).status).toBe(200);
    const partial = await RawClient.connect(t.port);
    partial.write('GET / HT');
    await partial.settle(50);
    const c = await RawClient.connect(t.port);
    c.write(get);
    expect((await c.readResponse()).status).toBe(200);
    expect(await idle.expectClosed()).toEqual({ closed: true, extra: '' });
    expect(partial.ended).toBe(false);
    const d = await RawClient.connect(t.port);
    d.write(get);
    expect((await d.readResponse()).status).toBe(200);
    const refused = await partial.readResponse();
    expect(refused.status).toBe(408);
    expect(refused.header('connection')).toBe('close');
    expect((await partial.expectClosed()).closed).toBe(true);
    expect(log.lines.some((l) => /408 WS_ERR_SHED/.test(l))).toBe(true);
    for (const client of [idle, partial, c, d]) client.destroy();
    await t.close();
  });
  it('never sheds a connection whose request runs: a new one waits until one can be shed', async () => {
    const log = recordingLogger();
    const { app, release } = gatedApp();
    const t = await startServer(app, { connectionLimit: 2, logger: log });
    const a = await RawClient.connect(t.port);
    const b = await RawClient.connect(t.port);
    a.write(busy);
    b.write(busy);
    await a.settle(50);
    const c = await RawClient.connect(t.port);
    c.write(get);
    expect(await c.settle(200)).toBe('');
    expect(t.server.connections).toBe(2);
    expect(log.lines.some((l) => /connection_limit \(2\) reached and no connection can be shed/.test(l))).toBe(true);
    release();
    expect((await a.readResponse()).status).toBe(200);
    expect((await b.readResponse()).status).toBe(200);
    // Now idle, the oldest is shed for the waiting one at the next sweep (within a second).
    expect((await c.readResponse({ timeoutMs: 2500 })).status).toBe(200);
    expect(await a.expectClosed()).toEqual({ closed: true, extra: '' });
    expect(b.ended).toBe(false);
    for (const client of [a, b, c]) client.destroy();
    await t.close();
  });
  it('lets a waiting connection in as soon as another closes', async () => {
    const { app, release } = gatedApp();
    const t = await startServer(app, { connectionLimit: 1 });
    const a = await RawClient.connect(t.port);
    a.write(busy);
    await a.settle(50);
    const b = await RawClient.connect(t.port);
    b.write(get);
    expect(await b.settle(100)).toBe('');
    // A reset: the connection is gone at once (after a FIN it would stay until its app answers).
    a.socket.resetAndDestroy();
    expect((await b.readResponse({ timeoutMs: 500 })).status).toBe(200);
    release();
    b.destroy();
    await t.close();
  });
  it('closes connections beyond connection_limit + backlog', async () => {
    const { app, release } = gatedApp();
    const t = await startServer(app, { connectionLimit: 1, backlog: 1 });
    const a = await RawClient.connect(t.port);
    a.write(busy);
    await a.settle(50);
    const waiting = await RawClient.connect(t.port);
    const refused = await RawClient.connect(t.port);
    expect((await refused.expectClosed()).closed).toBe(true);
    expect(waiting.ended).toBe(false);
    release();
    expect((await a.readResponse()).status).toBe(200);
    for (const c of [a, waiting, refused]) c.destroy();
    await t.close();
  });
  it.runIf(existsSync('/proc/self/limits'))('warns at start-up when connection_limit is past the open-file limit', async () => {
    const log = recordingLogger();
    const t = await startServer(() => new Response('ok'), { connectionLimit: Number.MAX_SAFE_INTEGER, logger: log });
    expect(log.lines.some((l) => /warn: .*connectionLimit \(\d+\) is near or above this process's open-file limit/.test(l))).toBe(true);
    await t.close();
  });
  it('rejects a connection_limit below 1 at start-up', async () => {
    await expect(startServer(() => new Response('ok'), { connectionLimit: 0 })).rejects.toThrow(/^connectionLimit: must be at least 1/);
  });
});
