// test/functional/websocket.test.ts: WebSocket upgrades (upgradeWebSocket(), RFC 6455) over real
// sockets, with ws's client, and raw sockets for the handshake's edge cases and bytes pipelined
// after it; each suite runs with the app inline (threads: 0) and in worker threads (threads: 2),
// where it must behave the same. The app (test/fixtures/websocket-app.mjs) reports what its
// sockets see on a BroadcastChannel, which reaches this file from the app's thread whichever it is.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import { exchange, RawClient, recordingLogger, startServer, type TestServer } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';

const APP = 'test/fixtures/websocket-app.mjs:app';
const EVENTS = 'waitstate-websocket-test';

type Report = Record<string, unknown> & { id: string };

/** What the app reported about each of its sockets, by the id the test gave it. */
class Reports {
  readonly #channel = new BroadcastChannel(EVENTS);
  readonly #seen: Report[] = [];
  constructor() {
    this.#channel.onmessage = (event) => void this.#seen.push((event as MessageEvent).data as Report);
  }
  of(id: string): Report[] {
    return this.#seen.filter((report) => report.id === id);
  }
  /** The first report about `id` that has `key`, waited for. */
  async find(id: string, key: string, ms = 5000): Promise<Report> {
    await until(() => this.of(id).some((report) => key in report), ms);
    const found = this.of(id).find((report) => key in report);
    if (found === undefined) throw new Error(`no report with ${key} for ${id}; got ${JSON.stringify(this.of(id))}`);
    return found;
  }
  close(): void {
    this.#channel.close();
  }
}

interface Message {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** ws's client, with its messages queued and its close awaited. */
class Client {
  readonly ws: WebSocket;
  /** The fields of the 101. */
  headers: Record<string, string | string[] | undefined> = {};
  readonly #messages: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('upgrade', (response) => (this.headers = response.headers));
    ws.on('message', (data: Buffer, isBinary) => this.#messages.push({ data, isBinary }));
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(port: number, path: string, protocols: string[] = [], options: ClientOptions = {}): Promise<Client> {
    return new Promise((resolve, reject) => {
      // Listening from the start, so that no message sent on open is missed.
      const client = new Client(new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, options));
      client.ws.on('error', reject);
      client.ws.on('unexpected-response', (_, response) => reject(new Error(`answered ${response.statusCode}`)));
      client.ws.on('open', () => resolve(client));
    });
  }

  async next(ms = 5000): Promise<Message> {
    await until(() => this.#messages.length > 0, ms);
    const message = this.#messages.shift();
    if (message === undefined) throw new Error('no message came');
    return message;
  }

  async text(ms?: number): Promise<string> {
    return (await this.next(ms)).data.toString();
  }
}

let lastId = 0;
const nextId = (): string => `s${++lastId}`;

const randomKey = (): string => randomBytes(16).toString('base64');
function handshake(path: string, { key = randomKey(), version = '13', method = 'GET', extra = '' } = {}): string {
  return (
    `${method} ${path} HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${version}\r\n${extra}\r\n`
  );
}

/** A client's text frame, masked as RFC 6455 §5.3 wants (payloads under 126 bytes). */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x81;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ mask[i % 4]!;
  return frame;
}

/** Read one unmasked server frame of under 126 bytes: its opcode and payload. */
async function readFrame(client: RawClient): Promise<{ opcode: number; payload: Buffer }> {
  const [first, second] = await client.readBytes(2);
  return { opcode: first! & 0x0f, payload: await client.readBytes(second! & 0x7f) };
}

const reports = new Reports();
afterAll(() => reports.close());

describe.each([{ threads: 0 }, { threads: 2 }])('WebSockets, threads: $threads', ({ threads }) => {
  let t: TestServer;
  let log: ReturnType<typeof recordingLogger>;
  beforeAll(async () => {
    log = recordingLogger();
    t = await startServer(APP, { threads, logger: log });
  });
  afterAll(() => t.close());

  it('echoes text; the socket was CONNECTING (send threw) until the 101, then OPEN', async () => {
    const id = nextId();
    const client = await Client.open(t.port, `/ws?id=${id}`);
    client.ws.send('hello');
    expect(await client.text()).toBe('hello');
    expect(await reports.find(id, 'early')).toMatchObject({ early: 'InvalidStateError' });
    expect(await reports.find(id, 'open')).toMatchObject({ open: 1, protocol: '' });
    client.ws.send('!state');
    expect(JSON.parse(await client.text())).toEqual({
      readyState: 1,
      protocol: '',
      binaryType: 'arraybuffer',
      url: `ws://127.0.0.1:${t.port}/ws?id=${id}`,
      extensions: '',
      OPEN: 1,
    });
    client.ws.close();
    await client.closed;
  });

  it('delivers binary messages as an ArrayBuffer by default, or as a Blob, and sends both back', async () => {
    for (const [binaryType, expected] of [
      ['', 'ArrayBuffer'],
      ['blob', 'Blob'],
    ] as const) {
      const id = nextId();
      const client = await Client.open(t.port, `/ws?id=${id}&binaryType=${binaryType}`);
      const bytes = randomBytes(70_000);
      client.ws.send(bytes);
      const echoed = await client.next();
      expect(echoed.isBinary).toBe(true);
      expect(echoed.data.equals(bytes)).toBe(true);
      expect(await reports.find(id, 'got')).toMatchObject({ got: expected, size: 70_000 });
      client.ws.close();
      await client.closed;
    }
  });

  it('keeps the order of messages sent after a Blob that is still being read', async () => {
    const id = nextId();
    const client = await Client.open(t.port, `/ws?id=${id}&binaryType=blob`);
    client.ws.send(Buffer.from('first'));
    client.ws.send('second');
    const first = await client.next();
    expect([first.isBinary, first.data.toString()]).toEqual([true, 'first']);
    expect(await client.text()).toBe('second');
    client.ws.close();
  });

  it('puts a fragmented message together before the app sees it (RFC 6455 §5.4)', async () => {
    const id = nextId();
    const client = await Client.open(t.port, `/ws?id=${id}`);
    client.ws.send('frag', { fin: false });
    client.ws.send('men', { fin: false });
    client.ws.send('ted', { fin: true });
    expect(await client.text()).toBe('fragmented');
    client.ws.send(Buffer.from([1, 2]), { fin: false, binary: true });
    client.ws.send(Buffer.from([3]), { fin: true, binary: true });
    expect([...(await client.next()).data]).toEqual([1, 2, 3]);
    client.ws.close();
  });

  it("passes the client's close code and reason to the app, clean", async () => {
    const id = nextId();
    const client = await Client.open(t.port, `/ws?id=${id}`);
    client.ws.close(4001, 'client bye');
    expect(await client.closed).toEqual({ code: 4001, reason: 'client bye' });
    expect(await reports.find(id, 'close')).toMatchObject({ close: 4001, reason: 'client bye', wasClean: true, state: 3 });
  });

  it("passes the app's close code and reason to the client; a code no endpoint may send is refused", async () => {
    const id = nextId();
    const client = await Client.open(t.port, `/ws?id=${id}`);
    client.ws.send('!bad-close 1006');
    expect(await client.text()).toBe('InvalidAccessError');
    client.ws.send(`!bad-close 1000 ${'x'.repeat(124)}`);
    expect(await client.text()).toBe('SyntaxError');
    client.ws.send('!close 4002 server bye');
    expect(await client.closed).toEqual({ code: 4002, reason: 'server bye' });
    expect(await reports.find(id, 'close')).toMatchObject({ close: 4002, reason: 'server bye', wasClean: true });
  });

  it('a reason without a code goes with 1000; no code at all is 1005 on both sides (RFC 6455 §7.1.5)', async () => {
    const a = nextId();
    const withReason = await Client.open(t.port, `/ws?id=${a}`);
    withReason.ws.send('!close-reason done here');
    expect(await withReason.closed).toEqual({ code: 1000, reason: 'done here' });
    const b = nextId();
    const withNothing = await Client.open(t.port, `/ws?id=${b}`);
    withNothing.ws.send('!close');
    expect(await withNothing.closed).toEqual({ code: 1005, reason: '' });
    expect(await reports.find(b, 'close')).toMatchObject({ close: 1005, wasClean: true });
  });

  it('refuses a bad handshake with 400 (426 and the version spoken for another version), logged at info', async () => {
    const missingKey = await exchange(t.port, handshake('/ws').replace(/Sec-WebSocket-Key: .*\r\n/, ''));
    expect([missingKey.status, missingKey.closed]).toEqual([400, true]);
    expect(missingKey.body.toString()).toContain('Sec-WebSocket-Key must appear once');
    const version8 = await exchange(t.port, handshake('/ws', { version: '8' }));
    expect(version8.status).toBe(426);
    expect(version8.header('sec-websocket-version')).toBe('13');
    const post = await exchange(t.port, handshake('/ws', { method: 'POST', extra: 'Content-Length: 0\r\n' }));
    expect(post.status).toBe(400);
    const shortKey = await exchange(t.port, handshake('/ws', { key: randomBytes(15).toString('base64') }));
    expect(shortKey.status).toBe(400);
    const noConnection = await exchange(t.port, handshake('/ws').replace('Connection: Upgrade', 'Connection: keep-alive'));
    expect(noConnection.status).toBe(400);
    const http10 = await exchange(t.port, handshake('/ws').replace('HTTP/1.1', 'HTTP/1.0'));
    expect([http10.status, http10.body.toString()]).toEqual([400, expect.stringContaining('an HTTP/1.1 request')]);
    await until(() => log.lines.filter((line) => line.includes('WS_ERR_WEBSOCKET_')).length >= 6);
    const lines = log.lines.filter((line) => line.includes('WS_ERR_WEBSOCKET_'));
    expect(lines.every((line) => line.startsWith('info: '))).toBe(true);
    expect(lines).toContain(
      'info: waitstate: GET /ws: 426 WS_ERR_WEBSOCKET_VERSION: This server speaks version 13 of the WebSocket protocol, which Sec-WebSocket-Version must name. (RFC 6455 §4.2.2, §4.4)',
    );
  });

  it('lets the app catch the refusal and answer as it likes', async () => {
    const r = await exchange(t.port, handshake('/catch', { version: '7' }));
    expect(r.status).toBe(418);
    expect(r.body.toString()).toBe('WebSocketHandshakeError WS_ERR_WEBSOCKET_VERSION 426');
  });

  it('answers an upgrade request the app does not upgrade as HTTP, and the connection goes on', async () => {
    const client = await RawClient.connect(t.port);
    client.write(handshake('/plain'));
    const r = await client.readResponse();
    expect([r.status, r.body.toString()]).toEqual([200, 'plain']);
    client.write('GET /plain HTTP/1.1\r\nHost: a\r\n\r\n');
    expect((await client.readResponse()).status).toBe(200);
    client.destroy();
  });

  it('gives the app the frames the client sent right behind the handshake, in the same write', async () => {
    const client = await RawClient.connect(t.port);
    client.write(Buffer.concat([Buffer.from(handshake(`/ws?id=${nextId()}`), 'latin1'), maskedText('pipelined')]));
    const r = await client.readResponse();
    expect(r.status).toBe(101);
    expect(await readFrame(client)).toEqual({ opcode: 1, payload: Buffer.from('pipelined') });
    client.destroy();
  });

  it('answers requests pipelined before the handshake first, then switches', async () => {
    const client = await RawClient.connect(t.port);
    client.write('GET /plain HTTP/1.1\r\nHost: a\r\n\r\n' + handshake(`/ws?id=${nextId()}`));
    expect((await client.readResponse()).status).toBe(200);
    expect((await client.readResponse()).status).toBe(101);
    client.write(maskedText('after'));
    expect(await readFrame(client)).toEqual({ opcode: 1, payload: Buffer.from('after') });
    client.destroy();
  });

  it('accepts the subprotocol the app chose among those offered, and refuses one not offered', async () => {
    const id = nextId();
    const client = await Client.open(t.port, `/ws?id=${id}&protocol=b`, ['a', 'b']);
    expect(client.ws.protocol).toBe('b');
    expect(await reports.find(id, 'open')).toMatchObject({ protocol: 'b' });
    client.ws.close();
    const refused = await exchange(t.port, handshake('/ws?protocol=c', { extra: 'Sec-WebSocket-Protocol: a, b\r\n' }));
    expect(refused.status).toBe(400);
    expect(refused.body.toString()).toContain('one the client offered');
  });

  it('sends the fields the app put on the response with the 101, with Date and Server', async () => {
    const client = await Client.open(t.port, `/ws?id=${nextId()}&cookie=${encodeURIComponent('session=1; HttpOnly')}`);
    expect(client.headers['set-cookie']).toEqual(['session=1; HttpOnly']);
    expect(client.headers['server']).toBe('waitstate');
    expect(client.headers['date']).toMatch(/GMT$/);
    expect(client.headers['connection']).toBe('Upgrade');
    client.ws.close();
  });

  it('upgrades with a copy of the 101 a framework made to add fields', async () => {
    const client = await Client.open(t.port, `/copy?id=${nextId()}`);
    expect(client.headers['x-copied']).toBe('yes');
    client.ws.send('via copy');
    expect(await client.text()).toBe('via copy');
    client.ws.close();
  });

  it('refuses a second upgradeWebSocket() of the same request', async () => {
    const client = await Client.open(t.port, '/twice');
    expect(client.headers['x-second']).toBe('TypeError: upgradeWebSocket(): the request was upgraded already');
    client.ws.close();
  });

  it('abandons the socket of an app that answered otherwise: error, then close 1006', async () => {
    const id = nextId();
    const r = await exchange(t.port, handshake(`/refuse?id=${id}`));
    expect(r.status).toBe(403);
    expect(await reports.find(id, 'close')).toMatchObject({ close: 1006, wasClean: false });
    expect(reports.of(id).some((report) => 'error' in report)).toBe(true);
    expect(reports.of(id).some((report) => 'open' in report)).toBe(false);
  });

  it('closes without opening a socket the app closed before its 101 went out', async () => {
    const id = nextId();
    const client = await Client.open(t.port, `/ws?id=${id}&closeEarly=1`);
    expect(await client.closed).toEqual({ code: 4005, reason: 'early' });
    expect(await reports.find(id, 'close')).toMatchObject({ close: 4005 });
    expect(reports.of(id).some((report) => 'open' in report)).toBe(false);
  });

  it('logs what a listener throws and goes on', async () => {
    const id = nextId();
    const client = await Client.open(t.port, `/ws?id=${id}`);
    client.ws.send('!throw');
    client.ws.send('still here');
    expect(await client.text()).toBe('still here');
    expect(await until(() => log.lines.some((line) => line.startsWith('error: ') && line.includes('a listener failed')))).toBe(true);
    client.ws.close();
  });

  it('counts what waits to be sent in bufferedAmount, down to 0 once the client reads', async () => {
    // 16 MB: more than the kernel's buffers take for a client that does not read (a few MB).
    const id = nextId();
    const client = await Client.open(t.port, `/ws?id=${id}`);
    const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    client.ws.send('!buffered 16000000');
    expect(((await reports.find(id, 'buffered')).buffered as number) > 1_000_000).toBe(true);
    expect(((await reports.find(id, 'bufferedLater')).bufferedLater as number) > 1_000_000).toBe(true);
    socket.resume();
    let received = 0;
    while (received < 16_000_000) received += (await client.next()).data.length;
    client.ws.send('!report-buffered');
    await until(() => reports.of(id).filter((report) => 'buffered' in report).length >= 2);
    expect(reports.of(id).filter((report) => 'buffered' in report)[1]).toMatchObject({ buffered: 0 });
    client.ws.close();
  });

  it('pings a silent client after half of idleTimeout, and closes it with 1001 after the other half', async () => {
    const id = nextId();
    const client = await Client.open(t.port, `/ws?id=${id}&idleTimeout=1`, [], { autoPong: false });
    let pinged = 0;
    client.ws.on('ping', () => pinged++);
    const started = Date.now();
    expect(await client.closed).toEqual({ code: 1001, reason: 'No response from ping frame.' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(pinged).toBe(1);
    expect(await reports.find(id, 'error')).toMatchObject({ error: 'No response from ping frame.' });
    expect(await reports.find(id, 'close')).toMatchObject({ close: 1001, wasClean: false });
  });

  it('keeps a client that answers pings, and one that keeps talking', async () => {
    const id = nextId();
    const client = await Client.open(t.port, `/ws?id=${id}&idleTimeout=0.4`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    client.ws.send('alive');
    expect(await client.text()).toBe('alive');
    client.ws.close();
  });

  it('holds 1,000 echo sockets at once', async () => {
    const started = Date.now();
    const clients = await Promise.all(Array.from({ length: 1000 }, () => Client.open(t.port, '/ws')));
    for (const [i, client] of clients.entries()) client.ws.send(`n${i}`);
    const echoes = await Promise.all(clients.map((client) => client.text(15_000)));
    expect(echoes).toEqual(clients.map((_, i) => `n${i}`));
    expect(t.server.connections).toBeGreaterThanOrEqual(1000);
    for (const client of clients) client.ws.close();
    await Promise.all(clients.map((client) => client.closed));
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await until(() => t.server.connections === 0)).toBe(true);
  }, 30_000);
});

describe.each([{ threads: 0 }, { threads: 2 }])('WebSockets and the server around them, threads: $threads', ({ threads }) => {
  it('a shutdown closes every WebSocket with 1001 and waits for their close', async () => {
    const t = await startServer(APP, { threads });
    const id = nextId();
    const clients = await Promise.all([Client.open(t.port, `/ws?id=${id}`), Client.open(t.port, '/ws')]);
    const closed = t.close();
    expect(await clients[0]!.closed).toEqual({ code: 1001, reason: 'The server is shutting down' });
    expect(await clients[1]!.closed).toMatchObject({ code: 1001 });
    await closed;
    expect(await reports.find(id, 'close')).toMatchObject({ close: 1001, wasClean: true });
  });

  it('a shutdown waits for a client that does not answer the close no longer than shutdown_timeout', async () => {
    const t = await startServer(APP, { threads, shutdownTimeout: 1 });
    const client = await RawClient.connect(t.port);
    client.write(handshake('/ws'));
    expect((await client.readResponse()).status).toBe(101);
    const started = Date.now();
    await t.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await readFrame(client)).toMatchObject({ opcode: 8 });
    client.destroy();
  });

  it('a handshake answered while the server stops is closed with 1001 at once', async () => {
    const t = await startServer(APP, { threads });
    const id = nextId();
    const opening = Client.open(t.port, `/slow-ws?id=${id}&ms=300`);
    await reports.find(id, 'early');
    const closed = t.close();
    const client = await opening;
    expect(await client.closed).toMatchObject({ code: 1001 });
    await closed;
  });

  it('channel_timeout does not close an idle WebSocket', async () => {
    const t = await startServer(APP, { threads, channelTimeout: 1, cleanupInterval: 1 });
    const client = await Client.open(t.port, `/ws?id=${nextId()}&idleTimeout=0`);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    client.ws.send('still open');
    expect(await client.text()).toBe('still open');
    client.ws.close();
    await client.closed;
    await t.close();
  });

  it('a WebSocket counts against connection_limit until it closes, and is never shed', async () => {
    const t = await startServer(APP, { threads, connectionLimit: 1 });
    const client = await Client.open(t.port, '/ws');
    const waiting = await RawClient.connect(t.port);
    waiting.write('GET /plain HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await waiting.settle(300)).toBe('');
    expect(t.server.connections).toBe(1);
    client.ws.send('not shed');
    expect(await client.text()).toBe('not shed');
    client.ws.close();
    expect((await waiting.readResponse()).status).toBe(200);
    waiting.destroy();
    await t.close();
  });
});

describe('WebSockets of an app in worker threads', () => {
  it('hold no slot of their worker (thread_concurrency) once the 101 is out', async () => {
    const t = await startServer(APP, { threads: 1, threadConcurrency: 1 });
    const clients = await Promise.all([Client.open(t.port, '/ws'), Client.open(t.port, '/ws'), Client.open(t.port, '/ws')]);
    const r = await exchange(t.port, 'GET /plain HTTP/1.1\r\nHost: a\r\n\r\n');
    expect([r.status, r.body.toString()]).toEqual([200, 'plain']);
    clients[2]!.ws.send('and still echoes');
    expect(await clients[2]!.text()).toBe('and still echoes');
    for (const client of clients) client.ws.close();
    await t.close();
  });

  it('are closed with 1011 when the worker thread running their app exits, and the worker is replaced', async () => {
    const log = recordingLogger();
    const t = await startServer(APP, { threads: 1, logger: log });
    const [doomed, bystander] = await Promise.all([Client.open(t.port, '/ws'), Client.open(t.port, '/ws')]);
    doomed.ws.send('!exit');
    expect(await doomed.closed).toEqual({ code: 1011, reason: 'The worker thread exited' });
    expect(await bystander.closed).toMatchObject({ code: 1011 });
    expect(await until(() => log.lines.some((line) => line.includes('starting a replacement')))).toBe(true);
    const again = await Client.open(t.port, '/ws');
    again.ws.send('new thread');
    expect(await again.text()).toBe('new thread');
    again.ws.close();
    await t.close();
  });
});

describe.each([{ threads: 0 }, { threads: 2 }])('a Hono app (examples/websocket/hono.mjs), threads: $threads', ({ threads }) => {
  it("upgrades through Hono's defineWebSocketHelper, its middleware's fields on the 101", async () => {
    const t = await startServer('examples/websocket/hono.mjs:app', { threads });
    const client = await Client.open(t.port, '/ws', [], { headers: { Origin: 'https://shop.example' } });
    expect(client.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(await client.text()).toBe('welcome');
    client.ws.send('hi');
    expect(await client.text()).toBe('echo: hi');
    client.ws.close();
    await client.closed;
    await t.close();
  });
});

describe('the trace', () => {
  it('shows the connection leave HTTP for the WebSocket: dispatched, upgraded, closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waitstate-ws-trace-'));
    try {
      const file = join(dir, 'trace.jsonl');
      const t = await startServer(APP, { threads: 0, trace: file });
      const client = await Client.open(t.port, '/ws');
      client.ws.close();
      await client.closed;
      await t.close();
      const steps = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { actor: string; from: string; event: string; to: string })
        .map((l) => `${l.actor}: ${l.from} --${l.event}--> ${l.to}`);
      expect(steps).toEqual(
        expect.arrayContaining([
          'task: running --app.upgraded--> upgraded',
          'channel: dispatched --task.upgraded--> upgraded',
          'channel: upgraded --socket.closed--> closed',
        ]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
