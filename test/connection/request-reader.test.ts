// RequestReader on its own, with a host that records what it hears: pipelined requests come out
// one at a time as values, a head or body split over reads is tracked for the deadline sweep, 100
// Continue and refusals are reported, and buffered input pauses the socket.
import { describe, expect, it } from 'vitest';
import { RequestReader, type ReceivedRequest, type RequestReaderHost } from '../../src/connection/request-reader.js';
import { ERR } from '../../src/http/errors.js';
import type { HttpError } from '../../src/http/types.js';
import type { ServeOptions } from '../../src/config/options.js';
import { channelConfig } from '../helpers/channel-config.js';
import { FakeSocket } from '../helpers/fake-socket.js';

class Host implements RequestReaderHost {
  readonly id = 7;
  lastActivity = 1_000;
  released = false;
  readonly requests: ReceivedRequest[] = [];
  readonly heard: string[] = [];
  headAwaitsContinue(bodyStarted: boolean): void {
    this.heard.push(`continue? body started: ${bodyStarted}`);
  }
  requestComplete(request: ReceivedRequest): void {
    this.requests.push(request);
    this.heard.push(`complete ${request.head.method} ${request.url}`);
  }
  requestInvalid(error: HttpError): void {
    this.heard.push(`invalid ${error.code}`);
  }
  pauseSocket(): void {
    this.heard.push('pause');
  }
  resumeSocket(): void {
    this.heard.push('resume');
  }
  fail(error: unknown): void {
    this.heard.push(`failed: ${String(error)}`);
  }
}

function setup(options: ServeOptions = {}): { host: Host; reader: RequestReader; feed(text: string): void } {
  const host = new Host();
  const reader = new RequestReader(
    host,
    channelConfig(() => new Response(), options),
    new FakeSocket(),
  );
  return {
    host,
    reader,
    feed(text) {
      reader.append(Buffer.from(text, 'latin1'));
      reader.parse();
    },
  };
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: example.test\r\n\r\n`;

describe('RequestReader', () => {
  it('hands pipelined requests over one at a time, each as a value, the next after nextRequest()', () => {
    const { host, reader, feed } = setup();
    feed(get('/a') + 'POST /b HTTP/1.1\r\nHost: example.test\r\nContent-Length: 3\r\n\r\nxyz' + get('/c'));
    expect(host.heard).toEqual(['complete GET http://example.test/a']);
    expect(host.requests[0]!.body).toBeNull();
    expect(host.requests[0]!.info.remoteAddress).toBe('127.0.0.1');
    expect(reader.pending).toBeGreaterThan(0);
    reader.nextRequest();
    reader.parse();
    expect(host.heard.at(-1)).toBe('complete POST http://example.test/b');
    expect(Buffer.from(host.requests[1]!.body as Uint8Array).toString()).toBe('xyz');
    reader.nextRequest();
    reader.parse();
    expect(host.heard.at(-1)).toBe('complete GET http://example.test/c');
    expect(reader.pending).toBe(0);
    expect(reader.atHead).toBe(false);
    reader.nextRequest();
    expect(reader.atHead).toBe(true);
  });

  it('keeps when a head split over reads began, and when a body began and how much of it came', () => {
    const { host, reader, feed } = setup();
    feed('POST / HTTP/1.1\r\nHost: example.test\r\n');
    expect([reader.headSince, reader.bodySince]).toEqual([1_000, 0]);
    host.lastActivity = 2_000;
    feed('Content-Length: 10\r\n\r\n1234');
    expect([reader.headSince, reader.bodySince, reader.bodyBytes]).toEqual([0, 2_000, 4]);
    feed('567890');
    expect([reader.headSince, reader.bodySince, reader.bodyBytes]).toEqual([0, 0, 10]);
    expect(host.heard).toEqual(['complete POST http://example.test/']);
  });

  it('reports a head that awaits 100 Continue, and whether some body came with it (RFC 9110 §10.1.1)', () => {
    const expecting = 'POST / HTTP/1.1\r\nHost: example.test\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n';
    const bare = setup();
    bare.feed(expecting);
    expect(bare.host.heard).toEqual(['continue? body started: false']);
    const eager = setup();
    eager.feed(expecting + 'ok');
    expect(eager.host.heard).toEqual(['continue? body started: true', 'complete POST http://example.test/']);
  });

  it('refuses a malformed head, and one with a Host no URL can be made of, and reads nothing after it (RFC 9112 §3.2)', () => {
    const malformed = setup();
    malformed.feed('GET / HTTP/1.1\r\nHost: example.test\r\nNoColon\r\n\r\n' + get('/smuggled'));
    expect(malformed.host.heard).toEqual([`invalid ${ERR.fieldNoColon.code}`]);
    const badHost = setup();
    badHost.feed('GET / HTTP/1.1\r\nHost: 256.1.1.1\r\n\r\n' + get('/next'));
    badHost.reader.nextRequest();
    badHost.reader.parse();
    expect(badHost.host.heard).toEqual([`invalid ${ERR.hostNotUrl.code}`]);
  });

  it("settles what the app sees: a trusted proxy's word on the client", () => {
    const { host, feed } = setup({ trustedProxy: '127.0.0.1', trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto'] });
    feed('GET /p HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 198.51.100.9\r\nX-Forwarded-Proto: https\r\n\r\n');
    expect(host.requests[0]!.url).toBe('https://shop.example/p');
    expect(host.requests[0]!.info).toMatchObject({ remoteAddress: '198.51.100.9', urlScheme: 'https' });
  });

  it('pauses the socket once more than 64 KiB wait (pauseIfFull), resumes for the next request, and drops input when closing', () => {
    const { host, reader, feed } = setup();
    feed(get('/running') + 'x'.repeat(64 * 1024));
    reader.pauseIfFull();
    expect(host.heard.slice(1)).toEqual([]);
    reader.append(Buffer.from('y'));
    reader.pauseIfFull();
    reader.pauseIfFull();
    expect([host.heard.slice(1), reader.paused]).toEqual([['pause'], true]);
    reader.nextRequest();
    expect([host.heard.slice(1), reader.paused]).toEqual([['pause', 'resume'], false]);
    reader.discardInput();
    expect([reader.discarding, reader.pending]).toEqual([true, 0]);
  });
});
