// Worker threads (threads > 0): the app runs in worker_threads spoken to over MessagePorts
// (comlink for their API), placed by the dispatcher machine; faults stay with the request.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, RawClient, recordingLogger, startServer, type TestServer } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';
import { channelConfig } from '../helpers/channel-config.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import { Channel } from '../../src/connection/channel.js';
import { WorkerPool } from '../../src/workers/pool.js';

const APP = 'test/fixtures/worker-app.mjs:app';
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;

describe('serving from worker threads', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(APP, { threads: 2 });
  });
  afterAll(() => t.close());

  it('runs the app in a worker, not on the main thread', async () => {
    const r = await exchange(t.port, get('/hello'));
    expect(r.status).toBe(200);
    expect(r.body.toString()).toMatch(/^hello from thread [1-9]\d*$/);
  });
  it('hands a large request body over whole', async () => {
    const body = Buffer.alloc(300_000, 7);
    body[12345] = 200;
    const r = await exchange(
      t.port,
      Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: x/y\r\nContent-Length: ${body.length}\r\n\r\n`), body]),
    );
    let sum = 0;
    for (const byte of body) sum = (sum + byte) % 65521;
    expect(JSON.parse(r.body.toString())).toMatchObject({ length: body.length, sum, type: 'x/y' });
  });
  it('streams a body of unknown length from the worker, chunked', async () => {
    const r = await exchange(t.port, get('/stream'));
    expect(r.header('transfer-encoding')).toBe('chunked');
    expect(r.body.toString()).toBe('aaaabbbbcccc');
  });
  it('answers 500 when the app throws or returns no Response, and keeps serving', async () => {
    expect((await exchange(t.port, get('/throw'))).status).toBe(500);
    expect((await exchange(t.port, get('/not-a-response'))).status).toBe(500);
    expect((await exchange(t.port, get('/hello'))).status).toBe(200);
  });
  it('answers pipelined requests in order across workers', async () => {
    const client = await RawClient.connect(t.port);
    client.write(get('/slow?ms=60&n=1') + get('/slow?ms=1&n=2') + get('/hello'));
    expect(JSON.parse((await client.readResponse()).body.toString()).n).toBe('1');
    expect(JSON.parse((await client.readResponse()).body.toString()).n).toBe('2');
    expect((await client.readResponse()).body.toString()).toMatch(/^hello/);
    client.destroy();
  });
});

describe('app errors cross from the worker with their codes', () => {
  it('an error with a code, and its cause with one, are logged on the main thread with them', async () => {
    const logged: unknown[][] = [];
    const logger = { error: (...args: unknown[]) => void logged.push(args), warn: () => {}, info: () => {} };
    const t = await startServer(APP, { threads: 1, logger });
    expect((await exchange(t.port, get('/throw-coded'))).status).toBe(500);
    await t.close();
    expect(logged).toHaveLength(1);
    const [line, error] = logged[0]!;
    expect(line).toBe('waitstate: GET /throw-coded: app error before the response head (answered 500): ERR_X:');
    expect(error).toMatchObject({ message: 'no database', code: 'ERR_X', cause: { message: 'refused', code: 'ECONNREFUSED' } });
    expect((error as Error).stack).toMatch(/worker-app\.mjs/);
  });
  it('an answer the worker cannot send is logged with its code', async () => {
    const log = recordingLogger();
    const t = await startServer(APP, { threads: 1, logger: log });
    expect((await exchange(t.port, get('/not-a-response'))).status).toBe(500);
    await t.close();
    expect(log.lines).toEqual([
      'error: waitstate: GET /not-a-response: app error before the response head (answered 500): WS_ERR_APP_NOT_A_RESPONSE: the app returned object, not a Response',
    ]);
  });
});

describe('a pool that stops while requests wait for a worker', () => {
  it('answers them 503 (the app never saw them), and logs "request not run" with WS_ERR_SERVER_CLOSING, not an app error', async () => {
    // serve()'s close() waits for its connections before it stops the pool, so this drives the
    // channels and the pool directly, as a server stopping mid-queue would.
    const log = recordingLogger();
    const pool = new WorkerPool(`${process.cwd()}/${APP}`, { threads: 1, window: 8, concurrency: 1 }, log, 'compiled', true);
    await pool.start();
    const config = { ...channelConfig(() => new Response('inline'), { logger: log }), pool };
    const [running, waiting] = [new FakeSocket(), new FakeSocket()];
    new Channel(running.asSocket(), config);
    new Channel(waiting.asSocket(), config);
    // threadConcurrency 1: the first request takes the only slot, the second waits in the queue.
    running.feed(get('/hang'));
    waiting.feed(get('/hello'));
    await pool.close();
    expect(await until(() => waiting.output().length > 0)).toBe(true);
    expect(waiting.output()).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(waiting.output()).toMatch(/\r\n\r\nThe server is stopping/);
    expect(log.lines).toEqual([
      'warn: waitstate: GET /hello: request not run (answered 503): WS_ERR_SERVER_CLOSING: the server is stopping, and requests still waiting for a worker thread are not run',
    ]);
  });
});

describe('the dispatcher', () => {
  it('never runs more than threadConcurrency tasks per thread, and runs waiting tasks in arrival order', async () => {
    const log = recordingLogger();
    const t = await startServer(APP, { threads: 2, threadConcurrency: 1, logger: log });
    const clients = await Promise.all([1, 2, 3, 4, 5, 6].map(() => RawClient.connect(t.port)));
    for (const [i, client] of clients.entries()) {
      // The last comes when the queue has waited long enough for a warning.
      await new Promise((r) => setTimeout(r, i === 5 ? 120 : 15));
      client.write(get(`/slow?ms=150&n=${i}`));
    }
    const runs = await Promise.all(
      clients.map(async (c) => JSON.parse((await c.readResponse()).body.toString()) as { start: number; end: number; n: string }),
    );
    // At the moment any task started, at most threads × threadConcurrency were running (itself included).
    for (const run of runs) {
      const running = runs.filter((other) => other.start <= run.start && run.start < other.end).length;
      expect(running).toBeLessThanOrEqual(2);
    }
    const order = [...runs].sort((a, b) => a.start - b.start).map((r) => r.n);
    expect(order).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(log.lines.some((l) => /warn: .*task queue depth is \d+, the oldest waiting \d+ ms/.test(l))).toBe(true);
    for (const c of clients) c.destroy();
    await t.close();
  });
});

describe('awaiting tasks share a thread', () => {
  it('runs 40 requests that each await 300 ms on one thread in about 300 ms', async () => {
    const t = await startServer(APP, { threads: 1 });
    const clients = await Promise.all(Array.from({ length: 40 }, () => RawClient.connect(t.port)));
    const started = Date.now();
    for (const [i, client] of clients.entries()) client.write(get(`/slow?ms=300&n=${i}`));
    const statuses = await Promise.all(clients.map(async (c) => (await c.readResponse()).status));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000); // one after another: 12 s
    for (const c of clients) c.destroy();
    await t.close();
  });
  it('four never-settling requests, their clients waiting or gone, do not keep a fifth waiting (threads: 2)', async () => {
    // A half-closed client's connection stays open while its app runs (it may still answer), so
    // close() waits out shutdownTimeout for the one that never does.
    const t = await startServer(APP, { threads: 2, shutdownTimeout: 1 });
    const hung = await Promise.all([1, 2, 3, 4].map(() => RawClient.connect(t.port)));
    for (const client of hung) client.write(get('/hang'));
    await new Promise((r) => setTimeout(r, 100));
    hung[0]!.end();
    hung[1]!.socket.resetAndDestroy();
    const fifth = await RawClient.connect(t.port);
    const started = Date.now();
    fifth.write(get('/hello'));
    expect((await fifth.readResponse()).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(500);
    for (const c of [...hung, fifth]) c.destroy();
    await t.close();
  });
  it('a never-settling request whose client leaves, by a close or a reset, gives its worker slot back', async () => {
    const t = await startServer(APP, { threads: 1, threadConcurrency: 1, shutdownTimeout: 1 });
    for (const leave of ['close', 'reset'] as const) {
      const hung = await RawClient.connect(t.port);
      hung.write(get('/hang'));
      await new Promise((r) => setTimeout(r, 100));
      const next = await RawClient.connect(t.port);
      next.write(get('/hello'));
      // The only slot is the hung request's...
      expect(await next.settle(200)).toBe('');
      // ...until its client goes.
      if (leave === 'close') hung.end();
      else hung.socket.resetAndDestroy();
      expect((await next.readResponse({ timeoutMs: 1000 })).status).toBe(200);
      for (const c of [hung, next]) c.destroy();
    }
    await t.close();
  });
});

describe('faults in workers (the server keeps serving everyone else)', () => {
  it('a client that resets in the middle of a streamed body: the stream is cancelled in the worker, chunks on the way are dropped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waitstate-firehose-'));
    const mark = join(dir, 'mark');
    const t = await startServer(APP, { threads: 1 });
    for (let round = 0; round < 5; round++) {
      const client = await RawClient.connect(t.port);
      client.write(get(`/firehose?mark=${encodeURIComponent(mark)}`));
      await until(() => client.unread.length > 100_000);
      client.socket.resetAndDestroy();
    }
    expect(await until(() => existsSync(mark))).toBe(true);
    expect((await exchange(t.port, get('/hello'))).status).toBe(200);
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });
  it('a worker that exits mid-request: that request gets 500, a replacement serves the queued one', async () => {
    const log = recordingLogger();
    const t = await startServer(APP, { threads: 1, logger: log });
    const a = await RawClient.connect(t.port);
    const b = await RawClient.connect(t.port);
    a.write(get('/exit'));
    await new Promise((r) => setTimeout(r, 20));
    b.write(get('/hello'));
    const failed = await a.readResponse();
    expect(failed.status).toBe(500);
    expect(failed.header('connection')).toBe('close');
    expect((await b.readResponse({ timeoutMs: 8000 })).body.toString()).toMatch(/^hello from thread/);
    expect(log.lines.some((l) => /worker \d+ exited with code 3 while running a task/.test(l))).toBe(true);
    expect(log.lines).toContain(
      'error: waitstate: GET /exit: app error before the response head (answered 500): WS_ERR_WORKER_EXITED: the worker running this request exited with code 3',
    );
    expect((await exchange(t.port, get('/hello'))).status).toBe(200);
    a.destroy();
    b.destroy();
    await t.close();
  });
  it('a worker that dies after the response head: that connection closes, truncated', async () => {
    const t = await startServer(APP, { threads: 1 });
    const client = await RawClient.connect(t.port);
    client.write(get('/exit-after-head'));
    const { closed, extra } = await client.expectClosed(8000);
    expect(closed).toBe(true);
    expect(extra).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(extra).not.toMatch(/\r\n0\r\n\r\n$/);
    expect((await exchange(t.port, get('/hello'))).status).toBe(200);
    await t.close();
  });
  it('a client that does not read a 1 MiB response does not keep its worker busy', async () => {
    const t = await startServer(APP, { threads: 1 });
    const slow = await RawClient.connect(t.port);
    slow.pause();
    slow.write(get('/big'));
    await new Promise((r) => setTimeout(r, 200));
    // The only worker must be free again: another client is served while the first still reads nothing.
    const started = Date.now();
    expect((await exchange(t.port, get('/hello'))).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2000);
    slow.resume();
    const big = await slow.readResponse({ timeoutMs: 8000 });
    expect(big.body.length).toBe(16 * 65536);
    expect(big.body[65536]).toBe(0x31);
    slow.destroy();
    await t.close();
  });
});

describe('serve() with a module reference', () => {
  it('loads it inline with threads: 0', async () => {
    const t = await startServer(APP, { threads: 0 });
    expect((await exchange(t.port, get('/hello'))).body.toString()).toBe('hello from thread 0');
    await t.close();
  });
  it('fails to start, naming the reference, when the module cannot be loaded in a worker', async () => {
    await expect(startServer('test/fixtures/missing.mjs:app', { threads: 2 })).rejects.toThrow(/cannot import .*missing\.mjs/);
    await expect(startServer('test/fixtures/worker-app.mjs:nope', { threads: 1 })).rejects.toThrow(/no export "nope"/);
  });
});
