// waitstate-serve over real processes: it must load an app by path, print what it serves on,
// answer, stop on SIGTERM with exit 0, and fail with one clear line on bad input.
import { type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, printed, root, runCli, servingPort, type CliProcess } from '../helpers/cli-process.js';
import { exchange, freePort } from '../helpers/raw-client.js';

const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/src/cli/serve.js is missing: run `npm run build` (npm test does it)');
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});
const dir = mkdtempSync(join(tmpdir(), 'waitstate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run waitstate-serve from the repository (or `cwd`), as systemd would with `systemdFd`. */
function run(args: string[], { cwd = root, systemdFd }: { cwd?: string; systemdFd?: number } = {}): CliProcess {
  return runCli(args, cwd, children, systemdFd === undefined ? {} : { systemdFd });
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
  it('--processes=2 serves from two processes, warns once, and stops them all on SIGTERM', async () => {
    const proc = run(['--processes=2', '--threads=0', '--recv-bytes=10', '--listen=127.0.0.1:0', 'test/fixtures/pid-app.mjs:app']);
    const port = await servingPort(proc);
    // Said by the primary, not again by each process.
    expect(proc.stderr().match(/--recv-bytes is accepted for Waitress configs only/g)).toHaveLength(1);
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
    [
      ['--prot=80', 'examples/hello/app.mjs:app'],
      /^waitstate-serve: error: --prot: is not an option; did you mean --port\? \(see --help\)$/,
    ],
    [['--port=abc', 'examples/hello/app.mjs:app'], /^waitstate-serve: error: --port: /],
    [['--threads=-1', 'examples/hello/app.mjs:app'], /^waitstate-serve: error: --threads: must be at least 0/],
    [
      ['--listen=127.0.0.1:0', '--port=1', 'examples/hello/app.mjs:app'],
      /^waitstate-serve: error: --listen: cannot be combined with --port$/,
    ],
    [
      ['--unix-socket=/tmp/x.sock', '--host=127.0.0.1', 'examples/hello/app.mjs:app'],
      /^waitstate-serve: error: --unix-socket: cannot be combined/,
    ],
    [['--no-ipv4', '--no-ipv6', 'examples/hello/app.mjs:app'], /^waitstate-serve: error: --ipv4: and --ipv6 cannot both be off/],
    [
      ['--trusted-proxy-count=2', 'examples/hello/app.mjs:app'],
      /^waitstate-serve: error: --trusted-proxy-count: has no meaning without --trusted-proxy$/,
    ],
    [['--config=test/fixtures/no-such.json', 'examples/hello/app.mjs:app'], /^waitstate-serve: error: --config: cannot read/],
    [
      ['--config=test/fixtures/bad-config.json', 'examples/hello/app.mjs:app'],
      /^waitstate-serve: error: test\/fixtures\/bad-config\.json: max_body: is not an option of waitstate$/,
    ],
    [['--config=package.json.yaml', 'examples/hello/app.mjs:app'], /--config: package\.json\.yaml: expected a JSON object of options/],
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
  it('prints its version with --version and -V, and --help says so', async () => {
    const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const proc = run([flag]);
      expect(await proc.exit).toBe(0);
      expect(proc.stdout()).toBe(`waitstate ${version}\n`);
    }
    const help = run(['--help']);
    expect(await help.exit).toBe(0);
    expect(help.stdout()).toMatch(/-V, --version\n\s+Print the version/);
  });
  it('--inspect PORT (a space) takes PORT as the inspector port, not as the app', async () => {
    const inspectPort = await freePort();
    const proc = run(['--inspect', String(inspectPort), '--threads=0', '--listen=127.0.0.1:0', 'examples/hello/app.mjs:app']);
    await printed(proc, new RegExp(`Inspector on http://127\\.0\\.0\\.1:${inspectPort} `), 'stderr');
    const port = await servingPort(proc);
    expect((await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n')).body.toString()).toBe('Hello, World!');
  });
  it('names options in start-up warnings as the flags typed', async () => {
    const proc = run(['--recv-bytes=10', '--trusted-proxy=127.0.0.1', '--threads=0', '--listen=127.0.0.1:0', 'examples/hello/app.mjs:app']);
    await servingPort(proc);
    expect(proc.stderr()).toMatch(/ WARN  waitstate: --recv-bytes is accepted for Waitress configs only: /m);
    expect(proc.stderr()).toMatch(/ WARN  waitstate: --trusted-proxy is set without --trusted-proxy-headers: /m);
    expect(proc.stderr()).not.toMatch(/recvBytes|trustedProxy/);
  });
  it('--port wins over the listen of a --config file: the file says where to listen only when no flag does', async () => {
    const config = join(dir, 'cfg.json');
    writeFileSync(config, JSON.stringify({ listen: '127.0.0.1:1', ident: 'from-file', threads: 0 }));
    const port = await freePort();
    const proc = run(['--config', config, `--port=${port}`, 'examples/hello/app.mjs:app']);
    await printed(proc, new RegExp(`Serving on http://0\\.0\\.0\\.0:${port}\\n`), 'stderr');
    expect(proc.stderr()).not.toMatch(/:1\n/);
    const r = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.header('server')).toBe('from-file');
    proc.child.kill('SIGTERM');
    expect(await proc.exit).toBe(0);
  });
  it("serves from a Waitress deployment's .ini: its [server:main], the other sections noted as not read", async () => {
    const port = await freePort();
    const ini = join(dir, 'production.ini');
    writeFileSync(
      ini,
      [
        '[app:main]',
        'use = egg:myproject',
        'pyramid.reload_templates = false',
        '',
        '[server:main]',
        'use = egg:waitress#main',
        `listen = 127.0.0.1:${port}`,
        'threads = 0',
        '# a comment',
        'ident = from-ini',
        'expose_tracebacks = no',
        '',
        '[loggers]',
        'keys = root',
      ].join('\n'),
    );
    const proc = run([`--config=${ini}`, 'examples/hello/app.mjs:app']);
    expect(await servingPort(proc)).toBe(port);
    expect(proc.stderr()).toMatch(/production\.ini: \[app:main\], \[loggers\] not read: waitstate serves the app named by MODULE:OBJECT/);
    const r = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.body.toString()).toBe('Hello, World!');
    expect(r.header('server')).toBe('from-ini');
    proc.child.kill('SIGTERM');
    expect(await proc.exit).toBe(0);
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
