// Listeners (Waitress's listen/host/port/ipv4/ipv6/unix_socket), url_prefix, the options that
// only Waitress configs carry, and shutdown_timeout, over real sockets.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serve, type ServeOptions, type ServerHandle } from '../../src/index.js';
import { OptionError } from '../../src/errors.js';
import { exchange, overUnixSocket, quietLogger, RawClient, recordingLogger, startServer } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';
import { echoApp, parseEcho } from './echo-app.js';

const dir = mkdtempSync(join(tmpdir(), 'waitstate-listeners-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const get = (target: string) => `GET ${target} HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n`;

describe('listen', () => {
  it('binds each address a host name resolves to in the enabled families', async () => {
    const only4 = await serve(echoApp, { listen: ['localhost:0'], ipv6: false, logger: quietLogger });
    expect(only4.addresses.map((a) => a.family)).toEqual(['IPv4']);
    await only4.close();
  });
  it('binds * to 0.0.0.0 only when ipv6 is off', async () => {
    const server = await serve(echoApp, { listen: ['*:0'], ipv6: false, logger: quietLogger });
    expect(server.addresses).toHaveLength(1);
    expect(server.addresses[0]).toMatchObject({ host: '0.0.0.0', family: 'IPv4' });
    expect((await exchange(server.addresses[0]!.port, get('/'))).status).toBe(200);
    await server.close();
  });
  it.each([
    [{ listen: ['127.0.0.1:0'], port: 1 }, 'listen'],
    [{ unixSocket: join(dir, 'a.sock'), host: '127.0.0.1' }, 'unixSocket'],
    [{ unixSocket: join(dir, 'a.sock'), listen: ['127.0.0.1:0'] }, 'unixSocket'],
    [{ ipv4: false, ipv6: false }, 'ipv4'],
    [{ listen: ['127.0.0.1:0'], ipv4: false }, 'listen'],
    [{ unixSocketPerms: '999' }, 'unixSocketPerms'],
    [{ urlPrefix: '/a b' }, 'urlPrefix'],
  ])('refuses %j, naming %s', async (options, option) => {
    const refused = serve(echoApp, { logger: quietLogger, ...options });
    await expect(refused).rejects.toBeInstanceOf(OptionError);
    await expect(refused).rejects.toMatchObject({ option });
  });
});

describe('unix_socket', () => {
  it('serves on the path with the permissions asked for; the peer is localhost', async () => {
    const path = join(dir, 'serve.sock');
    const server = await serve(echoApp, { unixSocket: path, unixSocketPerms: '660', logger: quietLogger });
    expect(server.addresses[0]).toMatchObject({ family: 'unix', url: `http://unix:${path}` });
    expect(statSync(path).mode & 0o777).toBe(0o660);
    const text = await overUnixSocket(path, get('/x'));
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const echo = parseEcho(Buffer.from(text.slice(text.indexOf('\r\n\r\n') + 4)));
    expect(echo.info.remoteAddress).toBe('localhost');
    expect(echo.url).toBe('http://example.test/x');
    await server.close();
    expect(existsSync(path)).toBe(false);
  });
  it('replaces a stale socket file, and refuses a live one or a file that is not a socket', async () => {
    const path = join(dir, 'stale.sock');
    // A server killed without closing leaves its socket file behind.
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await new Promise((resolve) => child.on('exit', resolve));
    expect(statSync(path).isSocket()).toBe(true);
    const server = await serve(echoApp, { unixSocket: path, logger: quietLogger });
    expect(await overUnixSocket(path, get('/'))).toMatch(/^HTTP\/1\.1 200/);
    await expect(serve(echoApp, { unixSocket: path, logger: quietLogger })).rejects.toThrow(/another server is listening/);
    await server.close();
    const plain = join(dir, 'plain-file');
    writeFileSync(plain, 'keep me');
    await expect(serve(echoApp, { unixSocket: plain, logger: quietLogger })).rejects.toThrow(/not a socket/);
    expect(existsSync(plain)).toBe(true);
  });
});

describe('sockets', () => {
  const listening = async (where: string | number) => {
    const server = createServer();
    await new Promise<void>((resolve) =>
      typeof where === 'number' ? server.listen(where, '127.0.0.1', resolve) : server.listen(where, resolve),
    );
    return server;
  };
  it('takes over a listening net.Server: serves on it, reports it, closes it', async () => {
    const bound = await listening(0);
    const { port } = bound.address() as AddressInfo;
    const server = await serve(echoApp, { sockets: [bound], logger: quietLogger });
    expect(server.addresses).toEqual([{ host: '127.0.0.1', port, family: 'IPv4', url: `http://127.0.0.1:${port}` }]);
    // Half-open (allowHalfOpen) like our own listeners: the answer still comes after the client's FIN.
    const client = await RawClient.connect(port);
    client.write(get('/x'));
    client.end();
    expect(parseEcho((await client.readResponse()).body).url).toBe('http://example.test/x');
    client.destroy();
    await server.close();
    expect(bound.listening).toBe(false);
  });
  it('takes a Unix socket server too', async () => {
    const path = join(dir, 'given.sock');
    const server = await serve(echoApp, { sockets: [await listening(path)], logger: quietLogger });
    expect(server.addresses[0]).toMatchObject({ family: 'unix', url: `http://unix:${path}` });
    expect(await overUnixSocket(path, get('/'))).toMatch(/^HTTP\/1\.1 200/);
    await server.close();
  });
  it.each([
    [{ sockets: [3], listen: ['127.0.0.1:0'] }, /cannot be combined with listen$/],
    [{ sockets: 'abc' }, /"abc" is not a file descriptor/],
    [{ sockets: [-1] }, /-1 is not a file descriptor/],
    [{ sockets: [createServer()] }, /must be listening already/],
  ])('refuses %j', async (options, detail) => {
    const refused = serve(echoApp, { logger: quietLogger, ...(options as ServeOptions) });
    await expect(refused).rejects.toMatchObject({ option: 'sockets', message: expect.stringMatching(detail) as string });
  });
  it('refuses a descriptor that is not a socket, a server with its own connection listener, and Internet with Unix', async () => {
    const file = join(dir, 'not-a-socket');
    writeFileSync(file, '');
    const fd = openSync(file, 'r');
    await expect(serve(echoApp, { sockets: [fd], logger: quietLogger })).rejects.toMatchObject({
      option: 'sockets',
      message: expect.stringMatching(`fd ${fd} cannot be listened on`) as string,
    });
    closeSync(fd);
    const busy = await listening(0);
    busy.on('connection', () => {});
    await expect(serve(echoApp, { sockets: [busy], logger: quietLogger })).rejects.toThrow(/must have no connection listener/);
    busy.close();
    const tcp = await listening(0);
    const unix = await listening(join(dir, 'mixed.sock'));
    await expect(serve(echoApp, { sockets: [tcp, unix], logger: quietLogger })).rejects.toThrow(
      /Internet and Unix sockets may not be mixed/,
    );
    expect([tcp.listening, unix.listening]).toEqual([false, false]);
  });
});

describe('url_prefix', () => {
  let port = 0;
  let server: ServerHandle | undefined;
  afterAll(() => server?.close());
  it.each([
    ['/app/x?q=1', 'http://example.test/x?q=1'],
    ['/app', 'http://example.test/'],
    ['/app/', 'http://example.test/'],
    ['//app/x', 'http://example.test/x'],
    ['/apple', 'http://example.test/apple'],
    ['/other/app/x', 'http://example.test/other/app/x'],
  ])('%s reaches the app as %s, with scriptName /app', async (target, url) => {
    if (server === undefined) {
      // Normalised: one leading slash, no trailing one (Waitress).
      const t = await startServer(echoApp, { urlPrefix: 'app/' });
      server = t.server;
      port = t.port;
    }
    const echo = parseEcho((await exchange(port, get(target))).body);
    expect(echo.url).toBe(url);
    expect(echo.info.scriptName).toBe('/app');
  });
});

describe('options Waitress has and Node does not need', () => {
  it('are accepted with a warning that says so', async () => {
    const log = recordingLogger();
    const t = await startServer(echoApp, { asyncoreUsePoll: true, recvBytes: 4096, logger: log });
    expect(log.lines.filter((l) => /accepted for Waitress configs only/.test(l))).toHaveLength(2);
    await t.close();
  });
});

describe('shutdown_timeout', () => {
  it('close() waits for a running request, then closes its connection after the grace period', async () => {
    const log = recordingLogger();
    let release: () => void = () => {};
    const app = () =>
      new Promise<Response>((resolve) => {
        release = () => resolve(new Response('late'));
      });
    const t = await startServer(app, { shutdownTimeout: 1, logger: log });
    const pending = exchange(t.port, get('/')).catch((error: unknown) => error);
    await until(() => t.server.connections === 1);
    const started = Date.now();
    await t.close();
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(log.lines.some((l) => /closing 1 connection\(s\) .* shutdown_timeout \(1 s\)/.test(l))).toBe(true);
    expect(await pending).toBeInstanceOf(Error);
    release();
  });
});
