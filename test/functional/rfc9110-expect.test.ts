// Expect: 100-continue (RFC 9110 §10.1.1), over real sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, startServer, type TestServer } from '../helpers/raw-client.js';
import { echoApp, parseEcho } from './echo-app.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer(echoApp, { maxRequestBodySize: 1000 });
});
afterAll(() => t.close());

describe('Expect: 100-continue (RFC 9110 §10.1.1)', () => {
  it('sends 100 Continue when a body is expected and not yet sent, then the response', async () => {
    const client = await RawClient.connect(t.port);
    client.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    const interim = await client.readResponse();
    expect(interim.status).toBe(100);
    expect(interim.raw.toString('latin1')).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    client.write('hello');
    const final = await client.readResponse();
    expect(final.status).toBe(200);
    expect(parseEcho(final.body).body).toBe('hello');
    client.destroy();
  });
  it('also for a chunked body', async () => {
    const client = await RawClient.connect(t.port);
    client.write('POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-Continue\r\n\r\n');
    expect((await client.readResponse()).status).toBe(100);
    client.write('3\r\nabc\r\n0\r\n\r\n');
    expect(parseEcho((await client.readResponse()).body).body).toBe('abc');
    client.destroy();
  });
  it('sends no 100 when the body came with the head', async () => {
    const client = await RawClient.connect(t.port);
    client.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello');
    const response = await client.readResponse();
    expect(response.status).toBe(200);
    expect(parseEcho(response.body).body).toBe('hello');
    client.destroy();
  });
  it('sends no 100 when no body is expected (Waitress sends one and then hangs)', async () => {
    const client = await RawClient.connect(t.port);
    client.write('GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n');
    expect((await client.readResponse()).status).toBe(200);
    client.destroy();
  });
  it('sends no 100 but 413 when the announced body is too large', async () => {
    const client = await RawClient.connect(t.port);
    client.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
    const response = await client.readResponse();
    expect(response.status).toBe(413);
    expect((await client.expectClosed()).closed).toBe(true);
  });
  it('ignores Expect on HTTP/1.0', async () => {
    const client = await RawClient.connect(t.port);
    client.write('POST / HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
    expect(await client.settle(150)).toBe('');
    client.write('ok');
    expect(parseEcho((await client.readResponse()).body).body).toBe('ok');
    client.destroy();
  });
  it('answers 100 for a pipelined request only after the response before it', async () => {
    const client = await RawClient.connect(t.port);
    client.write(
      'GET /first HTTP/1.1\r\nHost: a\r\n\r\nPOST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n',
    );
    expect(parseEcho((await client.readResponse()).body).url).toBe('http://a/first');
    expect((await client.readResponse()).status).toBe(100);
    client.write('hi');
    expect(parseEcho((await client.readResponse()).body).body).toBe('hi');
    client.destroy();
  });
});
