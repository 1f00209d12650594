// waitstate-serve over real processes: it must load an app by path, print what it serves on,
// answer, stop on SIGTERM with exit 0, and fail with one clear line on bad input.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../helpers/raw-client.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = `${root}dist/src/cli/serve.js`;
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/src/cli/serve.js is missing: run `npm run build` (npm test does it)');
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/**
 * Run waitstate-serve. With `systemdFd`, as systemd socket activation starts it: that descriptor
 * as fd 3, LISTEN_FDS=1 and LISTEN_PID its own pid (a shell sets it, then execs node in place).
 */
function run(
  args: string[],
  { cwd = root, systemdFd }: { cwd?: string; systemdFd?: number } = {},
): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child =
    systemdFd === undefined
      ? spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', process.execPath, cli, ...args], {
          cwd,
          stdio: ['ignore', 'pipe', 'pipe', systemdFd],
        });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function servingPort(proc: ReturnType<typeof run>): Promise<number> {
  for (let i = 0; i < 100; i++) {
    // The server's own lines are log lines, on stderr with the rest of its log.
    const m = /Serving on http:\/\/127\.0\.0\.1:(\d+)/.exec(proc.stderr());
    if (m !== null) return Number(m[1]);
    if (proc.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no "Serving on" line; stdout ${proc.stdout()} stderr ${proc.stderr()}`);
}

describe('waitstate-serve', () => {
  it('serves examples/hello, prints its address, and exits 0 on SIGTERM', async () => {
    const proc = run(['--listen=127.0.0.1:0', 'examples/hello/app.mjs:app']);
    const port = await servingPort(proc);
    const r = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.body.toString()).toBe('Hello, World!');
    proc.child.kill('SIGTERM');
    expect(await proc.exit).toBe(0);
  });
  it.each([
    ['test/fixtures/apps.mjs:plain', 'plain'],
    ['test/fixtures/apps.mjs:holder', 'from a method'],
    ['test/fixtures/apps.mjs:holder.fetch', 'from a method'],
    ['test/fixtures/apps.mjs:nested.inner.app', 'nested'],
    ['test/fixtures/apps.mjs:default', 'default export'],
  ])('loads %s', async (target, body) => {
    const proc = run(['--host', '127.0.0.1', '--port', '0', '--ident=custom', target]);
    const port = await servingPort(proc);
    const r = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.body.toString()).toBe(body);
    expect(r.header('server')).toBe('custom');
  });
  it('--processes=2 serves from two processes and stops them all on SIGTERM', async () => {
    const proc = run(['--processes=2', '--threads=0', '--listen=127.0.0.1:0', 'test/fixtures/pid-app.mjs:app']);
    const port = await servingPort(proc);
    const pids = new Set<string>();
    for (let i = 0; i < 8; i++) pids.add((await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).body.toString());
    expect(pids.size).toBe(2);
    proc.child.kill('SIGTERM');
    expect(await proc.exit).toBe(0);
    for (const pid of pids) expect(() => process.kill(Number(pid), 0)).toThrow();
  });
  it('takes an absolute module path', async () => {
    const proc = run(['--listen=127.0.0.1:0', `${root}test/fixtures/apps.mjs:plain`], { cwd: '/' });
    await servingPort(proc);
  });
  it('passes limits through: --max-request-header-size', async () => {
    const proc = run(['--listen=127.0.0.1:0', '--max-request-header-size=100', 'test/fixtures/apps.mjs:plain']);
    const port = await servingPort(proc);
    expect((await exchange(port, `GET / HTTP/1.1\r\nHost: a\r\nX: ${'y'.repeat(200)}\r\n\r\n`)).status).toBe(431);
  });
  it('prints help generated from the options table', async () => {
    const proc = run(['--help']);
    expect(await proc.exit).toBe(0);
    for (const flag of [
      '--host',
      '--port',
      '--listen',
      '--ident',
      '--max-request-header-size',
      '--max-request-body-size',
      '--expose-tracebacks',
      '--channel-timeout',
      '--threads',
    ]) {
      expect(proc.stdout()).toContain(flag);
    }
  });
  it.each([
    [['--bogus', 'examples/hello/app.mjs:app'], /--bogus/],
    [['--port=abc', 'examples/hello/app.mjs:app'], /^waitstate-serve: error: --port: /],
    [['--threads=-1', 'examples/hello/app.mjs:app'], /^waitstate-serve: error: --threads: must be at least 0/],
    [
      ['--listen=127.0.0.1:0', '--port=1', 'examples/hello/app.mjs:app'],
      /^waitstate-serve: error: --listen: cannot be combined with host or port/,
    ],
    [
      ['--unix-socket=/tmp/x.sock', '--host=127.0.0.1', 'examples/hello/app.mjs:app'],
      /^waitstate-serve: error: --unix-socket: cannot be combined/,
    ],
    [['--no-ipv4', '--no-ipv6', 'examples/hello/app.mjs:app'], /^waitstate-serve: error: --ipv4: and ipv6 cannot both be off/],
    [
      ['--trusted-proxy-count=2', 'examples/hello/app.mjs:app'],
      /^waitstate-serve: error: --trusted-proxy-count: has no meaning without --trusted-proxy$/,
    ],
    [['--config=test/fixtures/no-such.json', 'examples/hello/app.mjs:app'], /^waitstate-serve: error: config: cannot read/],
    [['--config=test/fixtures/bad-config.json', 'examples/hello/app.mjs:app'], /"max_body" is not an option of waitstate/],
    [['missing.mjs:app'], /cannot import .*missing\.mjs/],
    [['--threads=0', 'missing.mjs:app'], /cannot import missing\.mjs/],
    [['examples/hello/app.mjs:nope'], /no export "nope"/],
    [['examples/hello/app.mjs'], /MODULE:OBJECT/],
    [[], /specify an application/],
  ])('fails with one clear line for %j', async (args, message) => {
    const proc = run(args);
    expect(await proc.exit).toBe(1);
    const lines = proc.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
  it('serves the socket systemd passed (LISTEN_FDS), and refuses --listen with it', async () => {
    const bound = createServer();
    await new Promise<void>((resolve) => bound.listen(0, '127.0.0.1', resolve));
    const { port } = bound.address() as AddressInfo;
    // The descriptor of a listening socket, as systemd would hold it (Node has no public accessor).
    const fd = (bound as unknown as { _handle: { fd: number } })._handle.fd;
    const proc = run(['--threads=0', 'test/fixtures/apps.mjs:plain'], { systemdFd: fd });
    const refused = run(['--listen=127.0.0.1:0', 'test/fixtures/apps.mjs:plain'], { systemdFd: fd });
    expect(await servingPort(proc)).toBe(port);
    bound.close(); // the child has its own copy; from here only it accepts
    expect((await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n')).body.toString()).toBe('plain');
    proc.child.kill('SIGTERM');
    expect(await proc.exit).toBe(0);
    expect(await refused.exit).toBe(1);
    expect(refused.stderr().trim()).toMatch(
      /^waitstate-serve: error: --listen: cannot be combined with the 1 socket\(s\) systemd passed \(LISTEN_FDS\)$/,
    );
  });
  it('reads snake_case options from --config, and flags win over it', async () => {
    const proc = run(['--config=test/fixtures/config.json', '--ident=from-flag', 'examples/hello/app.mjs:app']);
    const port = await servingPort(proc);
    const r = await exchange(port, `GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n${'x'.repeat(20)}`);
    // max_request_body_size 10 from the file; ident from the flag.
    expect(r.status).toBe(413);
    expect(r.header('server')).toBe('from-flag');
    proc.child.kill('SIGTERM');
    expect(await proc.exit).toBe(0);
  });
});
