// connection_limit and backlog: beyond the limit a connection is not taken as a channel until one
// closes (it waits unread, as in Waitress, where it waits in the kernel's backlog).
import { describe, expect, it } from 'vitest';
import { RawClient, recordingLogger, startServer } from '../helpers/raw-client.js';

const get = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

describe('connection_limit', () => {
  it('serves a waiting connection as soon as another closes', async () => {
    const log = recordingLogger();
    const t = await startServer(() => new Response('ok'), { connectionLimit: 2, logger: log });
    const a = await RawClient.connect(t.port);
    const b = await RawClient.connect(t.port);
    a.write(get);
    b.write(get);
    expect((await a.readResponse()).status).toBe(200);
    expect((await b.readResponse()).status).toBe(200);
    const c = await RawClient.connect(t.port);
    c.write(get);
    expect(await c.settle(200)).toBe('');
    expect(t.server.connections).toBe(2);
    expect(log.lines.some((l) => /connection_limit \(2\) reached/.test(l))).toBe(true);
    a.destroy();
    expect((await c.readResponse()).status).toBe(200);
    b.destroy();
    c.destroy();
    await t.close();
  });
  it('closes connections beyond connection_limit + backlog', async () => {
    const t = await startServer(() => new Response('ok'), { connectionLimit: 1, backlog: 1 });
    const a = await RawClient.connect(t.port);
    const waiting = await RawClient.connect(t.port);
    const refused = await RawClient.connect(t.port);
    expect((await refused.expectClosed()).closed).toBe(true);
    expect(waiting.ended).toBe(false);
    a.write(get);
    expect((await a.readResponse()).status).toBe(200);
    for (const c of [a, waiting, refused]) c.destroy();
    await t.close();
  });
  it('rejects a connection_limit below 1 at start-up', async () => {
    await expect(startServer(() => new Response('ok'), { connectionLimit: 0 })).rejects.toThrow(/^connectionLimit: must be at least 1/);
  });
});
