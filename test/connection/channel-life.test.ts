// The Channel reports what the channel machine needs to decide a connection's life (a FIN, bytes
// that hold no whole request, output drained with a request pipelined or not, the write side
// ended, the linger timer) and carries out what it decides: over an in-memory socket, so each
// fact lands exactly where the test puts it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Channel } from '../../src/connection/channel.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import { channelConfig } from '../helpers/channel-config.js';
import type { FetchHandler } from '../../src/app.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const get = (path: string, fields = '') => `GET ${path} HTTP/1.1\r\nHost: a\r\n${fields}\r\n`;
const statusLines = (socket: FakeSocket) => socket.output().match(/HTTP\/1\.1 \d{3}/g) ?? [];

/** A client that half-closes but never closes: only the linger timer ends the connection. */
class LingeringClient extends FakeSocket {
  override end(): this {
    this.ended = true;
    return this;
  }
}

function open(app: FetchHandler, socket = new FakeSocket()) {
  let closed = false;
  new Channel(
    socket.asSocket(),
    channelConfig(app, {}, () => void (closed = true)),
  );
  return { socket, closed: () => closed };
}

/** An app that answers once released, so a test can act while the request runs. */
function heldApp() {
  const waiting: (() => void)[] = [];
  const app: FetchHandler = async (request) => {
    await new Promise<void>((resolve) => waiting.push(resolve));
    return new Response(new URL(request.url).pathname);
  };
  return { app, release: () => waiting.splice(0).forEach((resolve) => resolve()) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a FIN after a pipelined burst (RFC 9112 §9.6)', () => {
  it('closes on the part of a request that follows the whole ones: its rest will never come', async () => {
    const held = heldApp();
    const { socket, closed } = open(held.app);
    socket.feed(get('/a') + 'GET /b HTTP/1.1\r\nHo');
    await tick();
    socket.emit('end');
    held.release();
    for (let i = 0; i < 10 && !closed(); i++) await tick();
    expect(closed()).toBe(true);
    expect(socket.output()).not.toContain('/b');
  });

  it('answers a request pipelined before it while a response waits for a slow client', async () => {
    const held = heldApp();
    const { socket, closed } = open(held.app);
    socket.writableNeedDrain = true;
    socket.feed(get('/a') + get('/b'));
    await tick();
    socket.emit('end');
    held.release();
    await tick();
    expect(statusLines(socket)).toEqual(['HTTP/1.1 200']);
    socket.writableNeedDrain = false;
    socket.emit('drain');
    await tick();
    held.release();
    for (let i = 0; i < 10 && !closed(); i++) await tick();
    expect(statusLines(socket)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    expect(closed()).toBe(true);
  });

  it('closes once a slow client has drained when nothing was pipelined before it', async () => {
    const held = heldApp();
    const { socket, closed } = open(held.app);
    socket.writableNeedDrain = true;
    socket.feed(get('/a'));
    await tick();
    held.release();
    await tick();
    socket.emit('end');
    await tick();
    expect(closed()).toBe(false);
    socket.writableNeedDrain = false;
    socket.emit('drain');
    await tick();
    expect(closed()).toBe(true);
  });
});

describe('the lingering close (RFC 9112 §9.6)', () => {
  it('half-closes after the last response and waits for the client to close', async () => {
    const { socket, closed } = open(() => new Response('bye'));
    socket.feed(get('/', 'Connection: close\r\n'));
    for (let i = 0; i < 5 && !socket.ended; i++) await tick();
    expect({ ended: socket.ended, destroyed: socket.destroyed }).toEqual({ ended: true, destroyed: false });
    // FakeSocket's end() is followed by 'close', as when the client closes too.
    for (let i = 0; i < 5 && !closed(); i++) await tick();
    expect(closed()).toBe(true);
  });

  it('destroys the socket when the client does not close within 2 s', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { socket, closed } = open(() => new Response('bye'), new LingeringClient());
    socket.feed(get('/', 'Connection: close\r\n'));
    for (let i = 0; i < 5 && !socket.ended; i++) await tick();
    expect(socket.ended).toBe(true);
    vi.advanceTimersByTime(1_999);
    expect({ destroyed: socket.destroyed, closed: closed() }).toEqual({ destroyed: false, closed: false });
    // Input that arrives while lingering is read and thrown away, never answered.
    socket.feed(get('/smuggled'));
    await tick();
    vi.advanceTimersByTime(1);
    await tick();
    expect({ destroyed: socket.destroyed, closed: closed() }).toEqual({ destroyed: true, closed: true });
    expect(statusLines(socket)).toEqual(['HTTP/1.1 200']);
  });
});
