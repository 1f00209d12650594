// fileResponse(): the main thread sends a file from disk with Content-Length from its size
// (Waitress's wsgi.file_wrapper), for apps inline and in worker threads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileResponse } from '../../src/index.js';
import { exchange, RawClient, recordingLogger, startServer, type TestServer } from '../helpers/raw-client.js';

let dir: string;
let file: string;
const content = Buffer.alloc(200_000);
for (let i = 0; i < content.length; i++) content[i] = (i * 7) % 251;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'waitstate-file-'));
  file = join(dir, 'data.bin');
  writeFileSync(file, content);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function inlineApp(request: Request): Response {
  const url = new URL(request.url);
  const declared = url.searchParams.get('cl');
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (declared !== null) headers['content-length'] = declared;
  return fileResponse(url.searchParams.get('path') ?? file, { headers });
}

describe.each([
  ['inline', 0],
  ['in a worker thread', 2],
] as const)('fileResponse %s', (_label, threads) => {
  let t: TestServer;
  const log = recordingLogger();
  beforeAll(async () => {
    t =
      threads === 0
        ? await startServer(inlineApp, { logger: log })
        : await startServer('test/fixtures/worker-app.mjs:app', { threads, logger: log });
  });
  afterAll(() => t.close());
  const path = (p: string) => (threads === 0 ? p : p.replace('/?', '/file?'));

  it('sends the file with Content-Length from its size, and the connection persists', async () => {
    const client = await RawClient.connect(t.port);
    const request = `GET ${path(`/?path=${encodeURIComponent(file)}`)} HTTP/1.1\r\nHost: a\r\n\r\n`;
    client.write(request + request);
    for (let i = 0; i < 2; i++) {
      const r = await client.readResponse();
      expect(r.status).toBe(200);
      expect(r.header('content-length')).toBe(String(content.length));
      expect(r.header('content-type')).toBe('application/octet-stream');
      expect(r.body.equals(content)).toBe(true);
    }
    client.destroy();
  });
  it('answers HEAD with the size and no body', async () => {
    const client = await RawClient.connect(t.port);
    client.write(
      `HEAD ${path(`/?path=${encodeURIComponent(file)}`)} HTTP/1.1\r\nHost: a\r\n\r\nGET ${path('/?path=/nonexistent')} HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    const head = await client.readResponse({ forHead: true });
    expect(head.header('content-length')).toBe(String(content.length));
    expect((await client.readResponse()).status).toBe(500);
    client.destroy();
  });
  it('answers 500 for a missing file or a directory, logged with its code', async () => {
    log.lines.length = 0;
    expect((await exchange(t.port, `GET ${path('/?path=/nonexistent/file')} HTTP/1.1\r\nHost: a\r\n\r\n`)).status).toBe(500);
    expect((await exchange(t.port, `GET ${path(`/?path=${encodeURIComponent(dir)}`)} HTTP/1.1\r\nHost: a\r\n\r\n`)).status).toBe(500);
    expect(log.lines).toEqual([
      expect.stringMatching(
        /: app error before the response head \(answered 500\): WS_ERR_APP_FILE: the file \/nonexistent\/file cannot be sent: ENOENT/,
      ),
      expect.stringContaining(`: WS_ERR_APP_FILE: the file ${dir} cannot be sent: not a regular file`),
    ]);
  });
});

describe('fileResponse and an app Content-Length (Waitress file_wrapper rules)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(inlineApp);
  });
  afterAll(() => t.close());
  it('a smaller Content-Length sends that many bytes', async () => {
    const r = await exchange(t.port, 'GET /?cl=10 HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.header('content-length')).toBe('10');
    expect(r.body.equals(content.subarray(0, 10))).toBe(true);
    expect(r.closed).toBe(false);
  });
  it('a larger Content-Length is corrected to the size', async () => {
    const r = await exchange(t.port, `GET /?cl=${content.length + 10} HTTP/1.1\r\nHost: a\r\n\r\n`);
    expect(r.header('content-length')).toBe(String(content.length));
    expect(r.body.equals(content)).toBe(true);
  });
});
