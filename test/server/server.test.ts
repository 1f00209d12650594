// test/server/server.test.ts: the in-process server's life as a state: starting → serving →
// draining → closed, and a start-up that cannot bind its listeners ending closed.
import { describe, expect, it, vi } from 'vitest';
import { resolveOptions, type ServeOptions } from '../../src/config/options.js';
import { InProcessServer } from '../../src/server/server.js';
import { openServices, OpenedResources } from '../../src/server/services.js';
import { quietLogger, RawClient } from '../helpers/raw-client.js';

/** An app whose requests run until release() is called; `running` resolves when one has begun. */
function gatedApp(): { app: (request: Request) => Promise<Response>; running: Promise<void>; release: () => void } {
  let release!: () => void;
  let begun!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const running = new Promise<void>((resolve) => (begun = resolve));
  const app = async () => {
    begun();
    await gate;
    return new Response('ok');
  };
  return { app, running, release };
}

async function makeServer(app: (request: Request) => Response | Promise<Response>, options: ServeOptions = {}) {
  const settings = resolveOptions({ listen: ['127.0.0.1:0'], logger: quietLogger, ...options } as Record<string, unknown>);
  const opened = new OpenedResources();
  const services = await openServices(app, settings, opened);
  return { server: new InProcessServer(settings, services, opened), opened };
}

describe('InProcessServer', () => {
  it('is starting until its listeners are bound, then serving; close() drains, then it is closed', async () => {
    const { app, running, release } = gatedApp();
    const { server } = await makeServer(app);
    const listening = server.listen();
    expect(server.state).toBe('starting');
    await listening;
    expect(server.state).toBe('serving');

    const client = await RawClient.connect(server.addresses[0]!.port);
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await running;
    const closed = server.close();
    expect(server.state).toBe('draining');
    expect(server.close()).toBe(closed);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.state).toBe('draining'); // the running request holds it open
    release();
    expect((await client.readResponse()).status).toBe(200);
    client.end(); // the server lingers until the client closes too
    await closed;
    expect(server.state).toBe('closed');
    expect(server.connections).toBe(0);
  });

  it('a start-up whose listener cannot be bound ends closed, having closed what it opened', async () => {
    const { server: first } = await makeServer(() => new Response('ok'));
    await first.listen();
    try {
      const { server, opened } = await makeServer(() => new Response('ok'), { listen: [`127.0.0.1:${first.addresses[0]!.port}`] });
      const closeAll = vi.spyOn(opened, 'closeAll');
      await expect(server.listen()).rejects.toThrow(/EADDRINUSE/);
      expect(server.state).toBe('closed');
      expect(closeAll).toHaveBeenCalledOnce();
    } finally {
      await first.close();
    }
  });
});
