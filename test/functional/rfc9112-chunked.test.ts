// Chunked request bodies (RFC 9112 §7.1): the app sees a plain body and a Content-Length.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, RawClient, startServer, type TestServer } from '../helpers/raw-client.js';
import { echoApp, parseEcho } from './echo-app.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer(echoApp, { maxRequestBodySize: 100 });
});
afterAll(() => t.close());

const post = (chunks: string) => `POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}`;

describe('chunked request bodies (RFC 9112 §7.1)', () => {
  it('decodes the body; the app sees Content-Length and no Transfer-Encoding', async () => {
    const response = await exchange(t.port, post('5\r\nhello\r\n1;ext=1;q="a b"\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n'));
    const echo = parseEcho(response.body);
    expect(echo.body).toBe('hello world');
    expect(echo.headers).toContainEqual(['content-length', '11']);
    expect(echo.headers.map(([n]) => n)).not.toContain('transfer-encoding');
    expect(echo.headers.map(([n]) => n)).not.toContain('x-trailer');
  });
  it('decodes a body sent one byte at a time', async () => {
    const client = await RawClient.connect(t.port);
    const bytes = post('3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n');
    for (const ch of bytes) {
      client.write(ch);
      await new Promise((r) => setImmediate(r));
    }
    expect(parseEcho((await client.readResponse()).body).body).toBe('abcde');
    client.destroy();
  });
  it('decodes an empty chunked body', async () => {
    const echo = parseEcho((await exchange(t.port, post('0\r\n\r\n'))).body);
    expect(echo.body).toBe('');
    expect(echo.headers).toContainEqual(['content-length', '0']);
  });
  it.each([
    ['a size with 0x', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['a size with a sign', '+5\r\nhello\r\n0\r\n\r\n'],
    ['a size that is not hex', 'g\r\nhello\r\n0\r\n\r\n'],
    ['a bad extension', '5;=x\r\nhello\r\n0\r\n\r\n'],
    ['data without its CRLF', '5\r\nhelloXX0\r\n\r\n'],
    ['a bare LF after the size', '5\nhello\r\n0\r\n\r\n'],
  ])('refuses %s with 400 and closes', async (_name, chunks) => {
    const response = await exchange(t.port, post(chunks));
    expect(response.status).toBe(400);
    expect(response.header('connection')).toBe('close');
    expect(response.closed).toBe(true);
  });
  it('refuses a chunked body larger than max_request_body_size with 413', async () => {
    const response = await exchange(t.port, post(`40\r\n${'x'.repeat(64)}\r\n40\r\n${'y'.repeat(64)}\r\n0\r\n\r\n`));
    expect(response.status).toBe(413);
    expect(response.closed).toBe(true);
  });
});
