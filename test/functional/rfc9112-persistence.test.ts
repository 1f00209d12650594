// Connection persistence and pipelining, over real sockets (RFC 9112 §9.3, §9.3.2, §9.6).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, startServer, type TestServer } from '../helpers/raw-client.js';
import { echoApp, parseEcho } from './echo-app.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer(echoApp);
});
afterAll(() => t.close());

async function persists(request: string): Promise<{ connection: string | undefined; closed: boolean }> {
  const client = await RawClient.connect(t.port);
  client.write(request);
  const response = await client.readResponse();
  expect(response.status).toBe(200);
  const { closed } = await client.expectClosed(250);
  client.destroy();
  return { connection: response.header('connection'), closed };
}

describe('persistence (RFC 9112 §9.3)', () => {
  it('HTTP/1.0 closes unless the client asks for keep-alive', async () => {
    expect(await persists('GET / HTTP/1.0\r\n\r\n')).toEqual({ connection: 'close', closed: true });
  });
  it('HTTP/1.0 with Connection: keep-alive persists and says so', async () => {
    expect(await persists('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')).toEqual({ connection: 'keep-alive', closed: false });
  });
  it('HTTP/1.1 persists by default', async () => {
    expect(await persists('GET / HTTP/1.1\r\nHost: a\r\n\r\n')).toEqual({ connection: undefined, closed: false });
  });
  it('HTTP/1.1 with Connection: close closes after the response', async () => {
    expect(await persists('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).toEqual({ connection: 'close', closed: true });
  });
  it('Connection is a token list: "keep-alive, close" closes (Waitress compares the whole string)', async () => {
    expect(await persists('GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n')).toEqual({
      connection: 'close',
      closed: true,
    });
  });
  it('a client that half-closes after its request still gets the response (RFC 9112 §9.6)', async () => {
    const client = await RawClient.connect(t.port);
    client.write('GET /half HTTP/1.1\r\nHost: a\r\n\r\n');
    client.end();
    const response = await client.readResponse();
    expect(response.status).toBe(200);
    expect(parseEcho(response.body).url).toBe('http://a/half');
    expect((await client.expectClosed()).closed).toBe(true);
  });
});

describe('pipelining (RFC 9112 §9.3.2)', () => {
  it('answers pipelined requests in order, in one burst', async () => {
    const client = await RawClient.connect(t.port);
    let burst = '';
    for (let i = 0; i < 10; i++) {
      burst +=
        i % 2 === 0
          ? `GET /r${i} HTTP/1.1\r\nHost: a\r\n\r\n`
          : `POST /r${i} HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n${String(i).padStart(2, '0')}`;
    }
    client.write(burst);
    for (let i = 0; i < 10; i++) {
      const echo = parseEcho((await client.readResponse()).body);
      expect(echo.url).toBe(`http://a/r${i}`);
      expect(echo.body).toBe(i % 2 === 0 ? '' : String(i).padStart(2, '0'));
    }
    client.destroy();
  });
  it('answers nothing after a request that closes the connection', async () => {
    const client = await RawClient.connect(t.port);
    client.write(
      'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    expect(parseEcho((await client.readResponse()).body).url).toBe('http://a/1');
    const second = await client.readResponse();
    expect(parseEcho(second.body).url).toBe('http://a/2');
    expect(second.header('connection')).toBe('close');
    expect(await client.expectClosed()).toEqual({ closed: true, extra: '' });
  });
  it('answers nothing after a bad request, even a valid one pipelined behind it', async () => {
    const client = await RawClient.connect(t.port);
    client.write(
      'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    expect((await client.readResponse()).status).toBe(200);
    expect((await client.readResponse()).status).toBe(400);
    expect(await client.expectClosed()).toEqual({ closed: true, extra: '' });
  });
  it('ignores empty lines before a request line (RFC 9112 §2.2)', async () => {
    const client = await RawClient.connect(t.port);
    client.write('GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(parseEcho((await client.readResponse()).body).url).toBe('http://a/1');
    expect(parseEcho((await client.readResponse()).body).url).toBe('http://a/2');
    client.destroy();
  });
});
