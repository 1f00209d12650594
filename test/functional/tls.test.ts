// HTTPS served by waitstate itself (`tls`, `certfile`/`keyfile`), with certificates openssl makes
// for the run: curl and node:https get pages whose request.url says https; a TLS connection keeps
// alive and pipelines; a handshake that goes wrong (garbage, plain HTTP, a client that leaves, one
// that refuses the certificate, one that offers only h2) is logged once at info and costs only its
// own connection; connections still shaking hands count under connection_limit and are bounded
// by header_timeout; bad TLS options fail at start-up naming the option as written; it works with
// processes and on a Unix socket. .ci/run installs openssl and curl; without openssl the file is
// skipped, saying why.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, request as httpsRequest, type RequestOptions } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { resolveOptions } from '../../src/config/options.js';
import { OptionError, serve, type ServerHandle } from '../../src/index.js';
import { selfSignedCertificate, type Certificate } from '../helpers/certificates.js';
import { printed, root, runCli } from '../helpers/cli-process.js';
import { RawClient, recordingLogger, startServer, type TestServer } from '../helpers/raw-client.js';
import { CURL, findTool, OPENSSL, titleSayingWhy } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';
import { echoApp, parseEcho } from './echo-app.js';

const openssl = findTool(OPENSSL);
const curl = findTool(CURL);

interface Got {
  status: number;
  body: Buffer;
}

/** One GET over a fresh HTTPS connection with node:https, trusting `ca`. */
function httpsGet(options: RequestOptions & { ca: string }): Promise<Got> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest({ host: '127.0.0.1', servername: 'localhost', agent: false, timeout: 5000, ...options }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(parts) }));
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 5 s')));
    request.on('error', reject);
    request.end();
  });
}

/** Run a tool; resolves with its exit code and output (never rejects on a non-zero exit). */
function run(file: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
  });
}

/** A plain TCP connection to the HTTPS port, for what a TLS client would never send. */
function tcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** What arrives until the server closes the connection (or `ms` pass). */
function untilClosed(socket: Socket, ms = 5000): Promise<{ closed: boolean; text: string }> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (part: Buffer) => (text += part.toString('latin1')));
    const timer = setTimeout(() => resolve({ closed: false, text }), ms);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, text });
    });
    socket.on('error', () => {});
    socket.resume();
  });
}

/** The first bytes of a TLS handshake record announcing 512 bytes, of which none follow. */
const PARTIAL_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);

describe.skipIf(openssl === undefined)(titleSayingWhy('HTTPS', [OPENSSL]), () => {
  const dir = mkdtempSync(join(tmpdir(), 'waitstate-tls-'));
  let site: Certificate;
  let other: Certificate;
  let locked: Certificate;

  beforeAll(() => {
    site = selfSignedCertificate(openssl!, dir, 'site', { cn: 'localhost', altNames: ['DNS:localhost', 'IP:127.0.0.1'] });
    other = selfSignedCertificate(openssl!, dir, 'other', { cn: 'other.test' });
    locked = selfSignedCertificate(openssl!, dir, 'locked', { cn: 'localhost', passphrase: 'open sesame' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('serving', () => {
    let t: TestServer;
    const log = recordingLogger();
    /** The info lines logged about the client whose end of the connection is `localPort`. */
    const linesAbout = (localPort: number) => log.lines.filter((line) => line.includes(`127.0.0.1:${localPort} `));

    beforeAll(async () => {
      t = await startServer(echoApp, { tls: { key: Buffer.from(site.key), cert: site.cert }, logger: log });
    });
    afterAll(() => t?.close());

    it('says https in its address, request.url and info.urlScheme, to node:https', async () => {
      expect(t.server.addresses[0]!.url).toBe(`https://127.0.0.1:${t.port}`);
      const { status, body } = await httpsGet({ port: t.port, path: '/shop?item=7', ca: site.cert });
      expect(status).toBe(200);
      const echo = parseEcho(body);
      expect(echo.url).toBe(`https://127.0.0.1:${t.port}/shop?item=7`);
      expect(echo.info.urlScheme).toBe('https');
    });

    it.skipIf(curl === undefined)('serves curl --cacert over HTTP/1.1, chosen through ALPN although curl offers h2', async () => {
      const got = await run(curl!, ['-sS', '--cacert', site.certPath, '-w', '\n%{http_version}', `https://localhost:${t.port}/a`]);
      expect(got.stderr).toBe('');
      const [json, version] = got.stdout.split('\n');
      expect(JSON.parse(json!)).toMatchObject({ url: `https://localhost:${t.port}/a` });
      expect(version).toBe('1.1');
    });

    it('keeps the connection alive and answers two pipelined requests, written at once, in order', async () => {
      const client = await RawClient.connectTls(t.port, { ca: site.cert });
      try {
        client.write('GET /one HTTP/1.1\r\nHost: localhost\r\n\r\nGET /two HTTP/1.1\r\nHost: localhost\r\n\r\n');
        expect(parseEcho((await client.readResponse()).body).url).toBe('https://localhost/one');
        expect(parseEcho((await client.readResponse()).body).url).toBe('https://localhost/two');
        client.write('GET /three HTTP/1.1\r\nHost: localhost\r\n\r\n');
        expect(parseEcho((await client.readResponse()).body).url).toBe('https://localhost/three');
      } finally {
        client.destroy();
      }
    });

    it('answers plain HTTP on the port with 400 in plain HTTP, logs it once, and serves HTTPS next', async () => {
      const socket = await tcp(t.port);
      const port = socket.localPort!;
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const { closed, text } = await untilClosed(socket);
      expect(closed).toBe(true);
      expect(text).toMatch(/^HTTP\/1\.0 400 Bad Request\r\n[\s\S]*\r\n\r\nThis port speaks HTTPS: the request was sent as plain HTTP\.\n$/);
      expect(await until(() => linesAbout(port).length > 0)).toBe(true);
      expect(linesAbout(port)).toEqual([`info: waitstate: 127.0.0.1:${port} sent plain HTTP to the HTTPS port: answered 400`]);
      expect((await httpsGet({ port: t.port, path: '/', ca: site.cert })).status).toBe(200);
    });

    it("closes a connection that sends garbage, logging OpenSSL's reason once, and serves others", async () => {
      const socket = await tcp(t.port);
      const port = socket.localPort!;
      socket.write(Buffer.from('\x01\x02\x03 not a TLS record at all\r\n\r\n', 'latin1'));
      expect((await untilClosed(socket)).closed).toBe(true);
      expect(await until(() => linesAbout(port).length > 0)).toBe(true);
      expect(linesAbout(port)).toEqual([
        expect.stringMatching(
          new RegExp(`^info: waitstate: TLS handshake with 127\\.0\\.0\\.1:${port} failed: [a-z ]+ \\(ERR_SSL_[A-Z_]+\\)$`),
        ),
      ]);
      expect((await httpsGet({ port: t.port, path: '/', ca: site.cert })).status).toBe(200);
    });

    it('logs a client that leaves mid-handshake once, at once, with its address', async () => {
      const socket = await tcp(t.port);
      const port = socket.localPort!;
      socket.write(PARTIAL_HELLO);
      socket.end();
      expect((await untilClosed(socket, 1000)).closed).toBe(true);
      expect(await until(() => linesAbout(port).length > 0)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(linesAbout(port)).toEqual([
        `info: waitstate: TLS handshake with 127.0.0.1:${port} failed: the client closed the connection (ECONNRESET; a client that does not trust the certificate may)`,
      ]);
    });

    it('logs a client that refuses the certificate (its alert: unknown CA) once', async () => {
      const before = log.lines.length;
      const args = ['s_client', '-connect', `127.0.0.1:${t.port}`, '-servername', 'localhost', '-CAfile', other.certPath];
      const got = await run(openssl!, [...args, '-verify_return_error']);
      expect(got.code).not.toBe(0);
      expect(await until(() => log.lines.length > before)).toBe(true);
      expect(log.lines.slice(before)).toEqual([
        expect.stringMatching(
          /^info: waitstate: TLS handshake with 127\.0\.0\.1:\d+ failed: tlsv1 alert unknown ca \(ERR_SSL_TLSV1_ALERT_UNKNOWN_CA\)$/,
        ),
      ]);
    });

    it('refuses a client that offers only h2 with the no_application_protocol alert, at once', async () => {
      const error = await new Promise<Error & { code?: string }>((resolve, reject) => {
        const socket = connectTls({ port: t.port, host: '127.0.0.1', servername: 'localhost', ca: site.cert, ALPNProtocols: ['h2'] }, () =>
          reject(new Error(`the handshake succeeded with ${String(socket.alpnProtocol)}`)),
        );
        socket.on('error', resolve);
        setTimeout(() => reject(new Error('no answer within 2 s')), 2000).unref();
      });
      expect(error.code).toBe('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
      expect(await until(() => log.lines.some((line) => line.includes('no application protocol (ERR_SSL_NO_APPLICATION_PROTOCOL)')))).toBe(
        true,
      );
    });
  });

  describe('client certificates (requestCert)', () => {
    it('serves a client whose certificate chains to ca, and refuses one whose does not, or who has none, with a line each', async () => {
      const log = recordingLogger();
      const tls = { key: site.key, cert: site.cert, ca: other.cert, requestCert: true };
      const t = await startServer(echoApp, { tls, logger: log });
      try {
        const client = await RawClient.connectTls(t.port, { ca: site.cert, key: other.key, cert: other.cert });
        client.write('GET /mine HTTP/1.1\r\nHost: localhost\r\n\r\n');
        expect((await client.readResponse()).status).toBe(200);
        client.destroy();
        const refusals = [{ key: site.key, cert: site.cert }, {}];
        for (const credentials of refusals) {
          const refused = await RawClient.connectTls(t.port, { ca: site.cert, ...credentials }).then(
            async (c) => (await c.expectClosed()).closed,
            () => true,
          );
          expect(refused).toBe(true);
        }
        expect(await until(() => log.lines.length >= 2)).toBe(true);
        expect(log.lines).toEqual([
          expect.stringMatching(/^info: waitstate: TLS handshake with 127\.0\.0\.1:\d+ failed: its certificate was refused \([A-Z_]+\)$/),
          expect.stringMatching(
            /^info: waitstate: TLS handshake with 127\.0\.0\.1:\d+ failed: peer did not return a certificate \(ERR_SSL_[A-Z_]+\)$/,
          ),
        ]);
      } finally {
        await t.close();
      }
    });
  });

  describe('deadlines and connection_limit', () => {
    it('closes a connection that sends nothing quietly, and one stalled in its handshake with a line, after header_timeout', async () => {
      const log = recordingLogger();
      const t = await startServer(echoApp, { tls: { key: site.key, cert: site.cert }, headerTimeout: 1, logger: log });
      try {
        const silent = await tcp(t.port);
        const stalled = await tcp(t.port);
        const stalledPort = stalled.localPort!;
        stalled.write(PARTIAL_HELLO);
        const started = Date.now();
        const [quiet, stuck] = await Promise.all([untilClosed(silent), untilClosed(stalled)]);
        expect(quiet.closed && stuck.closed).toBe(true);
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
        expect(await until(() => log.lines.length > 0)).toBe(true);
        expect(log.lines).toEqual([
          `info: waitstate: TLS handshake with 127.0.0.1:${stalledPort} failed: TLS handshake timeout (ERR_TLS_HANDSHAKE_TIMEOUT)`,
        ]);
      } finally {
        await t.close();
      }
    });

    it('counts a connection still shaking hands under connection_limit: the next one waits until it goes', async () => {
      const t = await startServer(echoApp, { tls: { key: site.key, cert: site.cert }, connectionLimit: 1 });
      try {
        const holder = await tcp(t.port);
        expect(await until(() => t.server.connections === 1)).toBe(true);
        let answered = false;
        const next = httpsGet({ port: t.port, path: '/', ca: site.cert }).then((got) => ((answered = true), got));
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(answered).toBe(false);
        holder.destroy();
        expect((await next).status).toBe(200);
      } finally {
        await t.close();
      }
    });
  });

  describe('options, checked at start-up', () => {
    const refused = (options: Record<string, unknown>) => {
      try {
        resolveOptions(options);
      } catch (error) {
        expect(error).toBeInstanceOf(OptionError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };

    it('refuses a missing file, naming the option', () => {
      expect(refused({ certfile: join(dir, 'missing.pem'), keyfile: site.keyPath })).toMatch(
        /^certfile: cannot read .*missing\.pem: ENOENT: no such file or directory/,
      );
    });

    it('refuses a key that does not match its certificate, as files or in tls', () => {
      expect(refused({ certfile: site.certPath, keyfile: other.keyPath })).toBe(
        'keyfile: does not belong to the certificate in certfile (key values mismatch)',
      );
      expect(refused({ tls: { key: other.key, cert: site.cert } })).toBe(
        'tls.key: does not belong to the certificate in tls.cert (key values mismatch)',
      );
    });

    it('refuses an encrypted key without its passphrase, or with a wrong one, and takes the right one', () => {
      expect(refused({ tls: { key: locked.key, cert: locked.cert } })).toBe('tls.key: is encrypted: give its passphrase in tls.passphrase');
      expect(refused({ tls: { key: locked.key, cert: locked.cert, passphrase: 'wrong' } })).toBe(
        'tls.passphrase: does not decrypt tls.key (bad decrypt)',
      );
      expect(refused({ certfile: locked.certPath, keyfile: locked.keyPath, keyfilePassword: 'wrong' })).toBe(
        'keyfilePassword: does not decrypt keyfile (bad decrypt)',
      );
      expect(
        resolveOptions({ certfile: locked.certPath, keyfile: locked.keyPath, keyfilePassword: 'open sesame' }).tlsServer,
      ).toBeDefined();
    });

    it('refuses a half of a pair, swapped files, one piece given twice, and ALPN of its own', () => {
      expect(refused({ tls: { cert: site.cert } })).toBe('tls.cert: needs its private key: tls.key');
      expect(refused({ certfile: site.certPath })).toBe('certfile: needs its private key: keyfile');
      expect(refused({ tls: {} })).toBe('tls: needs a certificate and its key: tls.cert and tls.key, or pfx');
      expect(refused({ caCerts: site.certPath })).toBe('caCerts: has no meaning without a certificate and its key (certfile and keyfile)');
      expect(refused({ certfile: site.keyPath, keyfile: site.certPath })).toBe(
        'certfile: holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
      );
      expect(refused({ certfile: site.certPath, keyfile: site.keyPath, tls: { key: site.key } })).toBe(
        'keyfile: cannot be combined with tls.key: give one',
      );
      expect(refused({ tls: { key: site.key, cert: site.cert, ALPNProtocols: ['h2', 'http/1.1'] } })).toBe(
        'tls.ALPNProtocols: waitstate speaks HTTP/1.1 only, and advertises http/1.1 through ALPN itself',
      );
      expect(refused({ tls: { key: site.key, cert: site.cert, handshakeTimeout: -1 } })).toBe(
        'tls.handshakeTimeout: must be a number of milliseconds above 0 (got -1)',
      );
      expect(refused({ tls: { key: site.key, cert: site.cert, ciphers: 'NO-SUCH-CIPHER' } })).toBe(
        'tls: tls.createServer refuses it: no cipher match',
      );
    });

    it('warns at start-up of a certificate that has expired, or is not valid yet', () => {
      const day = 86_400_000;
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(Date.now() + 2 * day);
        expect(resolveOptions({ certfile: site.certPath, keyfile: site.keyPath }).warnings).toEqual([
          expect.stringMatching(/^waitstate: the certificate in certfile expired on .+ GMT: clients will refuse it$/),
        ]);
        vi.setSystemTime(Date.now() - 4 * day);
        expect(resolveOptions({ tls: { key: site.key, cert: site.cert } }).warnings).toEqual([
          expect.stringMatching(/^waitstate: the certificate in tls\.cert is not valid before .+ GMT: clients will refuse it$/),
        ]);
      } finally {
        vi.useRealTimers();
      }
      expect(resolveOptions({ tls: { key: site.key, cert: site.cert } }).warnings).toEqual([]);
    });

    it('serves https by default, minVersion TLSv1.2, and the handshake within header_timeout; what is given wins', () => {
      const tls = { key: site.key, cert: site.cert };
      const resolved = resolveOptions({ tls, headerTimeout: 7 });
      expect(resolved.urlScheme).toBe('https');
      expect(resolved.tlsServer).toMatchObject({ minVersion: 'TLSv1.2', handshakeTimeout: 7000, ALPNProtocols: ['http/1.1'] });
      expect(resolveOptions({ tls, headerTimeout: 0, channelTimeout: 9 }).tlsServer?.handshakeTimeout).toBe(9000);
      const given = resolveOptions({ tls: { ...tls, minVersion: 'TLSv1.3', handshakeTimeout: 500 }, urlScheme: 'http' });
      expect(given.urlScheme).toBe('http');
      expect(given.tlsServer).toMatchObject({ minVersion: 'TLSv1.3', handshakeTimeout: 500 });
      expect(resolveOptions({}).tlsServer).toBeUndefined();
    });
  });

  describe('where it listens', () => {
    it('serves from several processes, each with its own TLS engine, a tls of Buffers crossing to them', async () => {
      const t = await startServer('test/fixtures/pid-app.mjs:app', {
        processes: 2,
        tls: { key: Buffer.from(site.key), cert: Buffer.from(site.cert) },
      });
      try {
        const pids = new Set<string>();
        for (let i = 0; i < 12; i++) pids.add((await httpsGet({ port: t.port, path: '/', ca: site.cert })).body.toString());
        expect(pids.size).toBe(2);
        expect(pids.has(String(process.pid))).toBe(false);
      } finally {
        await t.close();
      }
    }, 20_000);

    it('refuses, with processes, a tls holding a function', async () => {
      const SNICallback = () => {};
      await expect(
        startServer('test/fixtures/pid-app.mjs:app', { processes: 2, tls: { key: site.key, cert: site.cert, SNICallback } }),
      ).rejects.toThrow(/^tls: tls\.SNICallback is a function: with processes, it cannot be sent to the other processes$/);
    });

    it('serves HTTPS on a socket bound by someone else (sockets)', async () => {
      const bound = createNetServer();
      await new Promise<void>((resolve) => bound.listen(0, '127.0.0.1', resolve));
      const { port } = bound.address() as AddressInfo;
      let server: ServerHandle | undefined;
      try {
        server = await serve(echoApp, { sockets: [bound], tls: { key: site.key, cert: site.cert }, logger: recordingLogger() });
        expect(server.addresses[0]!.url).toBe(`https://127.0.0.1:${port}`);
        const { status, body } = await httpsGet({ port, path: '/passed', ca: site.cert });
        expect(status).toBe(200);
        expect(parseEcho(body).url).toBe(`https://127.0.0.1:${port}/passed`);
      } finally {
        await server?.close();
      }
    });

    it('serves HTTPS on a Unix socket', async () => {
      const path = join(dir, 'https.sock');
      let server: ServerHandle | undefined;
      try {
        server = await serve(echoApp, { unixSocket: path, tls: { key: site.key, cert: site.cert }, logger: recordingLogger() });
        expect(server.addresses[0]!.url).toBe(`https://unix:${path}`);
        const { status, body } = await httpsGet({ socketPath: path, path: '/u', ca: site.cert, headers: { host: 'localhost' } });
        expect(status).toBe(200);
        expect(parseEcho(body).url).toBe('https://localhost/u');
      } finally {
        await server?.close();
      }
    });
  });

  describe('WebSockets over TLS (wss)', () => {
    it.each([0, 2])('threads %i: upgrades an HTTPS request, echoes, and closes with 1001 at shutdown', async (threads) => {
      const t = await startServer('test/fixtures/websocket-app.mjs:app', { threads, tls: { key: site.key, cert: site.cert } });
      try {
        const client = new WebSocket(`wss://localhost:${t.port}/ws`, { ca: site.cert });
        const received: string[] = [];
        const closed = new Promise<number>((resolve) => client.on('close', (code) => resolve(code)));
        client.on('message', (data: Buffer) => received.push(data.toString()));
        await new Promise<void>((resolve, reject) => {
          client.once('open', () => resolve());
          client.once('error', reject);
        });
        client.send('over tls');
        expect(await until(() => received.length === 1)).toBe(true);
        expect(received).toEqual(['over tls']);
        await t.close();
        expect(await closed).toBe(1001);
      } finally {
        await t.close();
      }
    });
  });

  describe("@hono/node-server's way: createServer from node:https, serverOptions", () => {
    it('serves HTTPS with serverOptions as tls, and refuses node:http options among them', async () => {
      const handle = await serve({
        fetch: echoApp,
        port: 0,
        hostname: '127.0.0.1',
        createServer: createHttpsServer,
        serverOptions: { key: site.key, cert: site.cert },
        logger: recordingLogger(),
      });
      try {
        expect(handle.addresses[0]!.url).toMatch(/^https:\/\//);
        const { body } = await httpsGet({ port: handle.addresses[0]!.port, path: '/h', ca: site.cert });
        expect(parseEcho(body).info.urlScheme).toBe('https');
      } finally {
        await handle.close();
      }
      const serverOptions = { key: site.key, cert: site.cert, keepAliveTimeout: 5000 };
      await expect(serve({ fetch: echoApp, port: 0, createServer: createHttpsServer, serverOptions })).rejects.toThrow(
        /^serverOptions\.keepAliveTimeout: are node:http's createServer options, .*channelTimeout for keepAliveTimeout/,
      );
    });
  });

  describe('waitstate-serve', () => {
    const live: ReturnType<typeof runCli>['child'][] = [];
    afterAll(() => {
      for (const child of live) child.kill('SIGKILL');
    });
    const app = `${root}examples/hello/app.mjs:app`;

    it('serves --certfile and --keyfile, opening an encrypted key with WAITSTATE_KEYFILE_PASSWORD', async () => {
      process.env['WAITSTATE_KEYFILE_PASSWORD'] = 'open sesame';
      const proc = (() => {
        try {
          return runCli(
            [`--certfile=${locked.certPath}`, `--keyfile=${locked.keyPath}`, '--threads=0', '--listen=127.0.0.1:0', app],
            dir,
            live,
          );
        } finally {
          delete process.env['WAITSTATE_KEYFILE_PASSWORD'];
        }
      })();
      const [, port] = await printed(proc, /Serving on https:\/\/127\.0\.0\.1:(\d+)/, 'stderr');
      expect((await httpsGet({ port: Number(port), path: '/', ca: locked.cert })).body.toString()).toBe('Hello, World!');
      proc.child.kill('SIGTERM');
      expect(await proc.exit).toBe(0);
    });

    it('names the flag, the variable or the config key at fault, and exits 1', async () => {
      const config = join(dir, 'deploy.json');
      writeFileSync(config, JSON.stringify({ certfile: site.certPath, keyfile: other.keyPath }));
      const cases: [string[], string][] = [
        [[`--certfile=${join(dir, 'missing.pem')}`, `--keyfile=${site.keyPath}`], '--certfile: cannot read'],
        [[`--certfile=${site.certPath}`, `--keyfile=${other.keyPath}`], '--keyfile: does not belong to the certificate in --certfile'],
        [
          [`--certfile=${locked.certPath}`, `--keyfile=${locked.keyPath}`],
          '--keyfile: is encrypted: give its passphrase in the environment variable WAITSTATE_KEYFILE_PASSWORD',
        ],
        [[`--config=${config}`], `${config}: keyfile: does not belong to the certificate in certfile`],
        [['--keyfile-password=x'], '--keyfile-password: is not a flag: a flag would show it to every user of the machine (ps)'],
      ];
      for (const [args, message] of cases) {
        const proc = runCli([...args, '--threads=0', app], dir, live);
        expect(await proc.exit).toBe(1);
        expect(proc.stderr()).toContain(`waitstate-serve: error: ${message}`);
      }
    });
  });
});
