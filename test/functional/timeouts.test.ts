// channel_timeout: idle connections are closed silently by the sweep; a running request never is.
import { describe, expect, it } from 'vitest';
import { RawClient, startServer } from '../helpers/raw-client.js';

describe('channel_timeout (Waitress maintenance sweep)', () => {
  it('closes an idle keep-alive connection and a stalled partial head, but not a running request', async () => {
    const t = await startServer(
      async (request) => {
        if (new URL(request.url).pathname === '/slow') await new Promise((r) => setTimeout(r, 2600));
        return new Response('ok');
      },
      { channelTimeout: 1, cleanupInterval: 1 },
    );
    const idle = await RawClient.connect(t.port);
    idle.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect((await idle.readResponse()).status).toBe(200);
    const partial = await RawClient.connect(t.port);
    partial.write('GET / HTTP/1.1\r\nHo');
    const slow = await RawClient.connect(t.port);
    slow.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
    const started = Date.now();
    expect(await idle.expectClosed(3500)).toEqual({ closed: true, extra: '' });
    expect(await partial.expectClosed(3500)).toEqual({ closed: true, extra: '' });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(800);
    const r = await slow.readResponse({ timeoutMs: 5000 });
    expect(r.body.toString()).toBe('ok');
    slow.destroy();
    await t.close();
  });
});
