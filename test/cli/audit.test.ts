// waitstate-audit: the catalogue run against any server, with a table or JSON, and its exit codes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/audit/cli.js';
import { CATALOGUE } from '../../src/audit/catalogue.js';
import { allowedAnswer, probe, verdict } from '../../src/audit/probe.js';
import { startServer, type TestServer } from '../helpers/raw-client.js';

const dir = mkdtempSync(join(tmpdir(), 'waitstate-audit-'));
const root = fileURLToPath(new URL('../..', import.meta.url));
// Three cases: one every server passes, and two where node:http answers otherwise: a 417 the RFC
// also allows, and a 200 it does not.
const picked = ['pipelined-two', 'expect-other', 'te-unknown-coding'].map((id) => CATALOGUE.find((c) => c.id === id)!);
const casesFile = join(dir, 'cases.json');
writeFileSync(casesFile, JSON.stringify(picked));
const allowedFile = join(dir, 'allowed.json');
writeFileSync(allowedFile, JSON.stringify(picked.slice(0, 2)));

let waitstate: TestServer;
let node: Server;
let nodePort = 0;
/** A loopback port nothing listens on: bound, then released. */
let freePort = 0;
beforeAll(async () => {
  const probeServer = createNetServer();
  await new Promise<void>((resolve) => probeServer.listen(0, '127.0.0.1', resolve));
  freePort = (probeServer.address() as AddressInfo).port;
  await new Promise((resolve) => probeServer.close(resolve));
  waitstate = await startServer(() => new Response('ok'));
  node = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
  nodePort = (node.address() as AddressInfo).port;
});
afterAll(async () => {
  await waitstate.close();
  await new Promise((resolve) => node.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await main(args, (t) => void (text += t));
  return { code, text };
}

describe('waitstate-audit', () => {
  it('passes waitstate, in JSON', async () => {
    const { code, text } = await run([`http://127.0.0.1:${waitstate.port}`, '--cases', casesFile, '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(text)).toMatchObject({ passed: 3, allowed: 0, failed: 0 });
  });

  it('shows where node:http differs, and exits 1', async () => {
    const { code, text } = await run([`http://127.0.0.1:${nodePort}`, `--cases=${casesFile}`]);
    expect(code).toBe(1);
    expect(text).toContain('| `pipelined-two` | RFC 9112 §9.3.2 | 200, 200 | 200, 200 | pass |');
    expect(text).toContain('| `expect-other` | RFC 9110 §10.1.1 | 200 | 417 | allowed |');
    expect(text).toContain('| `te-unknown-coding` | RFC 9112 §6.1 | 501, close | 200 | **FAIL** |');
    expect(text).toMatch(/\n1 passed, 1 allowed, 1 failed$/);
  });

  it('an answer the RFC also allows is no failure: exit 0, with the rule that allows it', async () => {
    const { code, text } = await run([`http://127.0.0.1:${nodePort}`, '--cases', allowedFile, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(text) as { passed: number; allowed: number; failed: number; cases: { verdict: string; why?: string }[] };
    expect(report).toMatchObject({ passed: 1, allowed: 1, failed: 0 });
    expect(report.cases[1]).toMatchObject({ verdict: 'allowed', why: expect.stringMatching(/417/) });
  });

  // What node:http answers here differs from waitstate's answer, but the RFC permits it.
  it.each([
    ['double-space', /RFC 9112 §3/],
    ['te-http-1-0', /RFC 9112 §6\.1/],
    ['expect-continue-too-large', /RFC 9110 §10\.1\.1/],
  ])("node:http's answer to %s is graded allowed, with the rule that permits it", async (id, rule) => {
    const edge = CATALOGUE.find((c) => c.id === id)!;
    const result = await probe('127.0.0.1', nodePort, edge);
    expect(verdict(edge, result)).toBe('allowed');
    expect(allowedAnswer(edge, result)?.why).toMatch(rule);
  });

  it.each([
    [[], /name the server to audit/],
    [['http://127.0.0.1:1', '--bogus'], /--bogus is not an option/],
    [['http://127.0.0.1:1', '--cases', join(dir, 'missing.json')], /--cases: cannot read/],
    [['http://127.0.0.1:1', '--cases'], /^waitstate-audit: error: --cases needs a file name$/],
    [['127.0.0.1:8080'], /^waitstate-audit: error: 127\.0\.0\.1:8080 has no scheme: write http:\/\/127\.0\.0\.1:8080$/],
    [
      ['https://127.0.0.1:1'],
      /^waitstate-audit: error: waitstate-audit speaks plain HTTP, not https: audit the server at its http:\/\/ address/,
    ],
    [['ftp://127.0.0.1:1'], /only http:\/\/ servers can be audited \(got ftp:\/\/127\.0\.0\.1:1\)/],
    [['http://no-such-host.invalid:8080'], /^waitstate-audit: error: no-such-host\.invalid does not resolve \(E[A-Z_]+\)$/],
  ])('refuses %j with one line and exit 2', (args, message) => {
    const result = spawnSync(process.execPath, [`${root}dist/src/audit/cli.js`, ...args], { encoding: 'utf8' });
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
  });

  it('says once that nothing is listening, before any case, and exits 2', () => {
    const result = spawnSync(process.execPath, [`${root}dist/src/audit/cli.js`, `http://127.0.0.1:${freePort}`], { encoding: 'utf8' });
    expect(result.stderr).toBe(`waitstate-audit: error: nothing is listening on 127.0.0.1:${freePort} (connection refused)\n`);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
  });

  it('--help explains every option and the exit codes', async () => {
    const { code, text } = await run(['--help']);
    expect(code).toBe(0);
    expect(text).toMatch(/^Usage: waitstate-audit http:\/\/HOST:PORT/);
    expect(text).toMatch(/^ {2}--cases FILE, --cases=FILE {2}run the cases in FILE/m);
    expect(text).toMatch(/^ {2}--json {2,}print a JSON report/m);
    expect(text).toMatch(/^ {2}-h, --help {2,}print this help/m);
    expect(text).toMatch(/^ {2}0 {2}every case passed/m);
    expect(text).toMatch(/^ {2}1 {2}a case failed/m);
    expect(text).toMatch(/^ {2}2 {2}the audit did not run/m);
  });
});

describe('--cases FILE', () => {
  const example = join(root, 'examples/audit/cases.json');

  it('runs the example of docs/audit.md, which shows the file as it is', async () => {
    const { code, text } = await run([`http://127.0.0.1:${waitstate.port}`, '--cases', example, '--json']);
    expect(JSON.parse(text)).toMatchObject({ passed: 5, allowed: 0, failed: 0 });
    expect(code).toBe(0);
    const doc = readFileSync(join(root, 'docs/audit.md'), 'utf8');
    expect(doc).toContain(`\`\`\`json\n${readFileSync(example, 'utf8').trimEnd()}\n\`\`\``);
  });

  it.each([
    [{ closes: 'no' }, 'case 1 (x): closes must be true or false'],
    [{ statuses: ['200'] }, 'case 1 (x): statuses must be an array of status codes'],
    [{ thensend: 'hello' }, 'case 1 (x): "thensend" is not a field of a case'],
    [{ fieldRule: 'framed' }, 'case 1 (x): fieldRule must be "head-length-as-get" or "framed-once"'],
    [{ alsoAllowed: [{ statuses: [417], closes: false }] }, 'case 1 (x): alsoAllowed must be an array of { statuses, closes, why }'],
  ])('refuses a case with %j, naming the case and the field', async (change, message) => {
    const file = join(dir, 'bad-case.json');
    writeFileSync(
      file,
      JSON.stringify([{ id: 'x', send: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', statuses: [200], closes: false, ...change }]),
    );
    await expect(run([`http://127.0.0.1:${waitstate.port}`, '--cases', file])).rejects.toThrow(`--cases: ${file}: ${message}`);
  });
});

describe('the field rules of the response cases', () => {
  /** A server that answers each request line it sees with `answer(method, target)`, as raw bytes. */
  async function rawServer(answer: (method: string, target: string) => string): Promise<{ port: number; close(): void }> {
    const server = createNetServer((socket) => {
      let seen = '';
      socket.on('data', (chunk: Buffer) => {
        seen += chunk.toString('latin1');
        for (let end = seen.indexOf('\r\n\r\n'); end !== -1; end = seen.indexOf('\r\n\r\n')) {
          const [method = '', target = ''] = seen.slice(0, end).split(' ');
          seen = seen.slice(end + 4);
          socket.write(answer(method, target));
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, close: () => server.close() };
  }
  const byId = (id: string) => CATALOGUE.find((c) => c.id === id)!;

  it('head-length-as-get: a HEAD that invents Content-Length: 0 fails; none, or GET’s, passes', async () => {
    for (const [headLength, expected] of [
      ['Content-Length: 0\r\n', 'FAIL'],
      ['', 'pass'],
      ['Content-Length: 2\r\n', 'pass'],
    ] as const) {
      const server = await rawServer((method) =>
        method === 'HEAD' ? `HTTP/1.1 200 OK\r\n${headLength}\r\n` : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      );
      const result = await probe('127.0.0.1', server.port, byId('head-length'));
      server.close();
      expect([verdict(byId('head-length'), result), result.problem]).toEqual(
        expected === 'FAIL' ? ['FAIL', 'HEAD got Content-Length 0, GET 2'] : ['pass', undefined],
      );
    }
  });

  it('framed-once: an app’s Transfer-Encoding passed on beside the server’s own framing fails', async () => {
    const server = await rawServer((_method, target) =>
      target === '/hop-by-hop'
        ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'
        : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    );
    const result = await probe('127.0.0.1', server.port, byId('app-hop-by-hop'));
    server.close();
    expect([verdict(byId('app-hop-by-hop'), result), result.problem]).toEqual(['FAIL', 'response 1 has 2 framing fields']);
  });
});
