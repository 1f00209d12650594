// waitstate-audit: the catalogue run against any server, with a table or JSON, and its exit codes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/audit/cli.js';
import { CATALOGUE } from '../../src/audit/catalogue.js';
import { probe, verdict } from '../../src/audit/probe.js';
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
beforeAll(async () => {
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

  it.each([
    [[], /name the server to audit/],
    [['http://127.0.0.1:1', '--bogus'], /--bogus is not an option/],
    [['http://127.0.0.1:1', '--cases', join(dir, 'missing.json')], /--cases: cannot read/],
  ])('refuses %j with one line and exit 2', (args, message) => {
    const result = spawnSync(process.execPath, [`${root}dist/src/audit/cli.js`, ...args], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
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
