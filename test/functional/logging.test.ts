// Logging: the access log (Apache Combined Log Format, to a stream or a file, inline and from
// worker threads), log levels, and log_socket_errors.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clfEscape, clfTime, combinedLine } from '../../src/observe/access-log.js';
import { Channel } from '../../src/connection/channel.js';
import { resolveOptions } from '../../src/config/options.js';
import { OptionError } from '../../src/errors.js';
import { channelConfig } from '../helpers/channel-config.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import { exchange, recordingLogger, startServer } from '../helpers/raw-client.js';

const dir = mkdtempSync(join(tmpdir(), 'waitstate-logging-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An access log output that keeps its lines. */
function lines(): { lines: string[]; write(line: string): void } {
  const kept: string[] = [];
  return { lines: kept, write: (line: string) => void kept.push(line) };
}

const app = async (request: Request) => {
  const path = new URL(request.url).pathname;
  if (path === '/throw') throw new Error('boom');
  if (path === '/stream') return new Response(new Blob(['abc', 'defg']).stream());
  return new Response('hello', { status: path === '/missing' ? 404 : 200 });
};

// %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"
const COMBINED = /^(\S+) - - \[(\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "([^"]*)" (\d{3}) (\d+|-) "(.*)" "(.*)"\n$/;

describe('the access log', () => {
  it('writes one Combined Log Format line per answered request', async () => {
    const log = lines();
    const t = await startServer(app, { accessLog: log });
    await exchange(
      t.port,
      'GET /a?q=1 HTTP/1.1\r\nHost: h\r\nReferer: http://r.example/\r\nUser-Agent: tester/1.0\r\nConnection: close\r\n\r\n',
    );
    await exchange(t.port, 'GET /missing HTTP/1.0\r\n\r\n');
    await exchange(t.port, 'HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', { forHead: true });
    await exchange(t.port, 'GET /stream HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    await exchange(t.port, 'GET /throw HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    await t.close();
    const fields = log.lines.map((line) => COMBINED.exec(line)?.slice(1));
    expect(fields.map((f) => f && [f[0], f[2], f[3], f[4], f[5], f[6]])).toEqual([
      ['127.0.0.1', 'GET /a?q=1 HTTP/1.1', '200', '5', 'http://r.example/', 'tester/1.0'],
      ['127.0.0.1', 'GET /missing HTTP/1.0', '404', '5', '-', '-'],
      ['127.0.0.1', 'HEAD / HTTP/1.1', '200', '-', '-', '-'],
      ['127.0.0.1', 'GET /stream HTTP/1.1', '200', '7', '-', '-'],
      ['127.0.0.1', 'GET /throw HTTP/1.1', '500', '-', '-', '-'],
    ]);
  });

  it('names the client a trusted proxy gave', async () => {
    const log = lines();
    const t = await startServer(app, { accessLog: log, trustedProxy: '127.0.0.1', trustedProxyHeaders: 'x-forwarded-for' });
    await exchange(t.port, 'GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n');
    await t.close();
    expect(log.lines[0]).toMatch(/^203\.0\.113\.7 - - /);
  });

  it('appends to a file, from worker threads too', async () => {
    const path = join(dir, 'access.log');
    const t = await startServer('test/fixtures/worker-app.mjs:app', { threads: 2, accessLog: path });
    for (let i = 0; i < 3; i++) await exchange(t.port, `GET /hello?n=${i} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
    await t.close();
    const written = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(written.map((l) => COMBINED.exec(l + '\n')?.[3])).toEqual([
      'GET /hello?n=0 HTTP/1.1',
      'GET /hello?n=1 HTTP/1.1',
      'GET /hello?n=2 HTTP/1.1',
    ]);
  });

  it('refuses a path it cannot write, naming the option', () => {
    return expect(startServer(app, { accessLog: join(dir, 'no-such-dir', 'x.log') })).rejects.toMatchObject({ option: 'accessLog' });
  });

  it('escapes what a client controls, as Apache does', () => {
    expect(clfEscape('a"b\\c\x01\xe9')).toBe('a\\"b\\\\c\\x01\\xe9');
    const line = combinedLine({
      remoteAddress: '::1',
      time: Date.UTC(2026, 10, 25, 6, 28, 25),
      method: 'GET',
      target: '/"x"',
      version: '1.1',
      status: 200,
      bodyBytes: 0,
      referer: undefined,
      userAgent: 'evil"\n',
    });
    expect(line).toMatch(/^::1 - - \[\d{2}\/Nov\/2026:\d{2}:\d{2}:25 [+-]\d{4}\] "GET \/\\"x\\" HTTP\/1\.1" 200 - "-" "evil\\"\\x0a"\n$/);
    expect(line.split('\n')).toHaveLength(2);
  });

  it('writes the time in the local zone with its offset', () => {
    const ms = Date.UTC(2026, 0, 2, 3, 4, 5);
    const offset = -new Date(ms).getTimezoneOffset();
    const local = new Date(ms + offset * 60_000);
    expect(clfTime(ms)).toBe(
      `[${String(local.getUTCDate()).padStart(2, '0')}/Jan/2026:${String(local.getUTCHours()).padStart(2, '0')}:04:05 ${offset < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}${String(Math.abs(offset) % 60).padStart(2, '0')}]`,
    );
  });
});

describe('log levels', () => {
  it('pass only messages at or above logLevel to the logger', async () => {
    const seen: Record<string, string[]> = {};
    for (const level of ['info', 'warn', 'error', 'silent'] as const) {
      const log = recordingLogger();
      const t = await startServer(app, { logLevel: level, logger: log, recvBytes: 1 });
      // An info line (a refused request), a warn line (an option with no effect), an error line (an app error).
      await exchange(t.port, 'GET / HTTP/1.1\r\n\r\n');
      await exchange(t.port, 'GET /throw HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
      await t.close();
      seen[level] = [...new Set(log.lines.map((l) => l.slice(0, l.indexOf(':'))))].sort();
    }
    expect(seen).toEqual({ info: ['error', 'info', 'warn'], warn: ['error', 'warn'], error: ['error'], silent: [] });
  });

  it('refuse an unknown level, naming the option', () => {
    expect(() => resolveOptions({ logLevel: 'debug' })).toThrow(OptionError);
    expect(() => resolveOptions({ logLevel: 'debug' })).toThrow(/logLevel: must be one of silent, error, warn, info/);
  });
});

describe('log_socket_errors', () => {
  it.each([
    [true, 'EHOSTUNREACH', 1],
    [false, 'EHOSTUNREACH', 0],
    [true, 'ECONNRESET', 0],
  ])('logSocketErrors %s, %s: %i warning(s)', (logSocketErrors, code, warnings) => {
    const log = recordingLogger();
    const socket = new FakeSocket();
    new Channel(socket.asSocket(), channelConfig(app, { logSocketErrors, logger: log }));
    socket.emit('error', Object.assign(new Error(`read ${code}`), { code }));
    expect(log.lines.filter((l) => l.includes('socket error'))).toHaveLength(warnings);
  });
});
