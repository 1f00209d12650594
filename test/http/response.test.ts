// test/http/response.test.ts: response framing, head serialization, app header checks, error
// responses (Waitress's layout), chunk framing.
import { describe, expect, test } from 'vitest';
import {
  acceptAppFields,
  CHUNK_CRLF,
  HOP_BY_HOP,
  LAST_CHUNK,
  STATUS_TEXT,
  checkAppHeader,
  chunkHeader,
  errorResponse,
  planResponseFraming,
  serializeResponseHead,
} from '../../src/http/response.js';
import { ERR, bodyTooLarge, headTooLarge } from '../../src/http/errors.js';

const DATE = 'Sun, 06 Nov 1994 08:49:37 GMT';

describe('RFC 9110 §7.6.1 hop-by-hop fields', () => {
  test('HOP_BY_HOP: the connection-specific fields the server manages (no Proxy-Authenticate/-Authorization)', () => {
    expect([...HOP_BY_HOP].sort()).toEqual([
      'connection',
      'keep-alive',
      'proxy-connection',
      'te',
      'trailer',
      'transfer-encoding',
      'upgrade',
    ]);
  });
  test.each(['Connection', 'keep-alive', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade', 'Proxy-Connection'])(
    'the app’s %s is dropped, not refused',
    (name) => {
      expect(checkAppHeader(name, 'x')).toBeUndefined();
      expect(acceptAppFields(['X-A', '1', name, 'chunked', 'X-B', '2'])).toEqual({
        fields: ['x-a', '1', 'x-b', '2'],
        declaredLength: undefined,
        dropped: [name.toLowerCase()],
      });
    },
  );
  test("Hono's streamSSE fields: Transfer-Encoding and Connection dropped, the rest kept in order", () => {
    const sse = [
      'content-type',
      'text/event-stream',
      'transfer-encoding',
      'chunked',
      'cache-control',
      'no-cache',
      'connection',
      'keep-alive',
    ];
    expect(acceptAppFields(sse)).toEqual({
      fields: ['content-type', 'text/event-stream', 'cache-control', 'no-cache'],
      declaredLength: undefined,
      dropped: ['transfer-encoding', 'connection'],
    });
  });
  test('Proxy-Authenticate and Proxy-Authorization are kept', () => {
    expect(acceptAppFields(['Proxy-Authenticate', 'Basic realm="p"', 'Proxy-Authorization', 'Basic eA=='])).toEqual({
      fields: ['proxy-authenticate', 'Basic realm="p"', 'proxy-authorization', 'Basic eA=='],
      declaredLength: undefined,
      dropped: undefined,
    });
  });
  test('fields named in the Connection value are dropped too, before or after it; Content-Length stays framing', () => {
    const headers = ['X-Hop', '1', 'Connection', 'close, X-Hop ,x-other', 'X-Other', '2', 'X-End', '3', 'Content-Length', '3'];
    expect(acceptAppFields(headers)).toEqual({ fields: ['x-end', '3'], declaredLength: 3, dropped: ['connection', 'x-hop', 'x-other'] });
    expect(acceptAppFields(['Connection', 'content-length', 'Content-Length', '3'])).toEqual({
      fields: [],
      declaredLength: 3,
      dropped: ['connection'],
    });
  });
  test('nothing dropped: no list is allocated', () => {
    expect(acceptAppFields(['Content-Type', 'text/plain'])).toEqual({
      fields: ['content-type', 'text/plain'],
      declaredLength: undefined,
      dropped: undefined,
    });
  });
  test('ordinary fields pass, including obs-text and HTAB in values', () => {
    expect(checkAppHeader('Content-Type', 'text/plain')).toBeUndefined();
    expect(checkAppHeader('X-A', 'a\tb \xe9')).toBeUndefined();
    expect(checkAppHeader('Content-Length', '5')).toBeUndefined();
    expect(checkAppHeader('Set-Cookie', '')).toBeUndefined();
  });
});

describe('acceptAppFields refusals', () => {
  test('response splitting is still refused, a hop-by-hop field included', () => {
    const field = (detail: RegExp) => ({ refused: 'field', detail: expect.stringMatching(detail) });
    expect(acceptAppFields(['X-A', 'a\r\nInjected: 1'])).toEqual(field(/^field "x-a": .*CR, LF or NUL/));
    expect(acceptAppFields(['Connection', 'close\r\nInjected: 1'])).toEqual(field(/^field "connection": .*CR, LF or NUL/));
    expect(acceptAppFields(['X A', '1'])).toEqual(field(/not a token/));
  });
  test('Content-Length: one valid length (RFC 9110 §8.6)', () => {
    const invalid = { refused: 'contentLength', detail: expect.stringMatching(/not one valid length/) };
    expect(acceptAppFields(['Content-Length', 'three'])).toEqual(invalid);
    expect(acceptAppFields(['Content-Length', '3', 'content-length', '4'])).toEqual(invalid);
    expect(acceptAppFields(['Content-Length', '3', 'content-length', '3'])).toEqual({ fields: [], declaredLength: 3, dropped: undefined });
  });
});

describe('RFC 9110 §5 app header syntax', () => {
  test.each(['', 'X A', 'X:A', 'X\r\nY', 'é', 'X(A)'])('name %j is not a token', (name) => {
    expect(checkAppHeader(name, 'x')).toMatch(/not a token \(RFC 9110 §5\.1\)\.$/);
  });
  test.each(['a\rb', 'a\nb', 'a\x00b', '\r\nSet-Cookie: x=1'])('value %j: CR, LF or NUL', (value) => {
    expect(checkAppHeader('X-A', value)).toMatch(/CR, LF or NUL \(RFC 9110 §5\.5\)\.$/);
  });
  test.each(['a\x01b', 'a\x7fb', 'a\x0bb'])('value %j: other CTL', (value) => {
    expect(checkAppHeader('X-A', value)).toMatch(/control character \(RFC 9110 §5\.5\)\.$/);
  });
  test('a value with a char above U+00FF cannot be written as latin1', () => {
    expect(checkAppHeader('X-A', 'snow ☃')).toMatch(/above U\+00FF/);
  });
});

describe('RFC 9112 §6.3 response framing', () => {
  const plan = (o: Partial<Parameters<typeof planResponseFraming>[0]>) =>
    planResponseFraming({ version: '1.1', isHead: false, status: 200, declaredLength: undefined, bodyLength: 'stream', ...o });
  test('1xx, 204 and 304 have no framing at all, even with a declared length', () => {
    for (const status of [100, 101, 103, 199, 204, 304]) {
      expect(plan({ status, declaredLength: 5, bodyLength: 5 })).toEqual({ kind: 'none' });
    }
    expect(plan({ status: 205 })).toEqual({ kind: 'chunked' });
    expect(plan({ status: 200 })).toEqual({ kind: 'chunked' });
  });
  test("the app's Content-Length wins over a known length", () => {
    expect(plan({ declaredLength: 7, bodyLength: 3 })).toEqual({ kind: 'length', length: 7 });
    expect(plan({ declaredLength: 0 })).toEqual({ kind: 'length', length: 0 });
    expect(plan({ bodyLength: 3 })).toEqual({ kind: 'length', length: 3 });
  });
  test('no body: Content-Length 0', () => {
    expect(plan({ bodyLength: null })).toEqual({ kind: 'length', length: 0 });
    expect(plan({ bodyLength: null, version: '1.0' })).toEqual({ kind: 'length', length: 0 });
  });
  test('unknown length: chunked on 1.1, close-delimited on 1.0', () => {
    expect(plan({ version: '1.1' })).toEqual({ kind: 'chunked' });
    expect(plan({ version: '1.0' })).toEqual({ kind: 'close' });
  });
  test('RFC 9110 §9.3.2: HEAD is framed as GET would be when the length is declared or known', () => {
    for (const o of [
      { bodyLength: 9 },
      { bodyLength: 0 },
      { declaredLength: 13, bodyLength: null },
      { status: 304 },
      { status: 204, bodyLength: null },
    ]) {
      expect(plan({ ...o, isHead: true })).toEqual(plan({ ...o, isHead: false }));
    }
  });
  test('RFC 9110 §9.3.2: HEAD with no body or a stream and no declared length gets no framing field (never an invented 0)', () => {
    for (const version of ['1.1', '1.0'] as const) {
      expect(plan({ version, isHead: true, bodyLength: null })).toEqual({ kind: 'none' });
      expect(plan({ version, isHead: true, bodyLength: 'stream' })).toEqual({ kind: 'none' });
    }
  });
});

describe('RFC 9112 §4 response head', () => {
  test('status line, app headers in order, then framing, Connection, Date, Server', () => {
    expect(
      serializeResponseHead(
        '1.1',
        200,
        '',
        ['Content-Type', 'text/plain', 'ETag', '"x"'],
        { kind: 'length', length: 5 },
        'keep-alive',
        DATE,
        'waitstate',
      ),
    ).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: "x"\r\nContent-Length: 5\r\nConnection: keep-alive\r\n' +
        `Date: ${DATE}\r\nServer: waitstate\r\n\r\n`,
    );
  });
  test('chunked framing, Connection: close, HTTP/1.0, custom reason', () => {
    expect(serializeResponseHead('1.1', 404, 'Nope', [], { kind: 'chunked' }, 'close', DATE, 'w')).toBe(
      `HTTP/1.1 404 Nope\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nDate: ${DATE}\r\nServer: w\r\n\r\n`,
    );
    expect(serializeResponseHead('1.0', 200, '', [], { kind: 'close' }, undefined, DATE, undefined)).toBe(
      `HTTP/1.0 200 OK\r\nDate: ${DATE}\r\n\r\n`,
    );
  });
  test('an unknown status without text has an empty reason (the SP stays)', () => {
    expect(serializeResponseHead('1.1', 599, '', [], { kind: 'none' }, undefined, DATE, '')).toBe(`HTTP/1.1 599 \r\nDate: ${DATE}\r\n\r\n`);
  });
  test('the app cannot set framing or persistence fields: they are dropped', () => {
    const h = serializeResponseHead(
      '1.1',
      204,
      '',
      ['content-length', '10', 'Transfer-Encoding', 'gzip', 'CONNECTION', 'upgrade', 'X-A', '1'],
      { kind: 'none' },
      undefined,
      DATE,
      'w',
    );
    expect(h).toBe(`HTTP/1.1 204 No Content\r\nX-A: 1\r\nDate: ${DATE}\r\nServer: w\r\n\r\n`);
  });
  test("the app's Date and Server win over ours", () => {
    expect(serializeResponseHead('1.1', 200, '', ['date', 'X', 'SERVER', 'app'], { kind: 'length', length: 0 }, undefined, DATE, 'w')).toBe(
      'HTTP/1.1 200 OK\r\ndate: X\r\nSERVER: app\r\nContent-Length: 0\r\n\r\n',
    );
  });
  test('fields whose names only share a length with a managed one are kept', () => {
    expect(
      serializeResponseHead('1.1', 200, '', ['X-Le', '1', 'X-Serv', '2', 'X-Connect1', '3'], { kind: 'none' }, undefined, DATE, ''),
    ).toBe(`HTTP/1.1 200 OK\r\nX-Le: 1\r\nX-Serv: 2\r\nX-Connect1: 3\r\nDate: ${DATE}\r\n\r\n`);
  });
  test('STATUS_TEXT follows RFC 9110 §15 wording', () => {
    expect(STATUS_TEXT[413]).toBe('Content Too Large');
    expect(STATUS_TEXT[422]).toBe('Unprocessable Content');
    expect(STATUS_TEXT[431]).toBe('Request Header Fields Too Large');
    expect(STATUS_TEXT[505]).toBe('HTTP Version Not Supported');
  });
});

describe('RFC 9112 §7.1 chunk framing for responses', () => {
  test('chunkHeader is upper-case hex + CRLF', () => {
    expect(chunkHeader(1)).toBe('1\r\n');
    expect(chunkHeader(255)).toBe('FF\r\n');
    expect(chunkHeader(0x10000)).toBe('10000\r\n');
    expect(CHUNK_CRLF).toBe('\r\n');
    expect(LAST_CHUNK).toBe('0\r\n\r\n');
  });
});

describe('error responses (Waitress layout)', () => {
  const text = (u: Uint8Array) => Buffer.from(u).toString('latin1');
  test('400: headers Connection, Content-Length, Content-Type, Date, Server; body reason/detail/tag', () => {
    const body = `Bad Request\r\n\r\n${ERR.bareLineFeed.reason}\r\n\r\n(generated by waitstate)`;
    // The reason's "§" is two bytes in UTF-8: Content-Length counts bytes, not chars.
    expect(Buffer.from(errorResponse(ERR.bareLineFeed, '1.1', DATE, 'waitstate')).toString('utf8')).toBe(
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: text/plain; charset=utf-8\r\nDate: ${DATE}\r\nServer: waitstate\r\n\r\n` +
        body,
    );
  });
  test('an empty ident: no Server header and "(generated by server)"', () => {
    const s = text(errorResponse(headTooLarge(100), '1.0', DATE, ''));
    expect(s.startsWith('HTTP/1.0 431 Request Header Fields Too Large\r\n')).toBe(true);
    expect(s).not.toContain('Server:');
    expect(s.endsWith('(generated by server)')).toBe(true);
    expect(text(errorResponse(bodyTooLarge(5), '1.1', DATE, undefined)).endsWith('(generated by server)')).toBe(true);
  });
  test('a non-ASCII detail is UTF-8 in the body and Content-Length counts bytes', () => {
    const u = errorResponse({ status: 500, reason: 'boom ☃ é' }, '1.1', DATE, 'w');
    const s = Buffer.from(u).toString('utf8');
    const end = s.indexOf('\r\n\r\n');
    const head = s.slice(0, end);
    const body = s.slice(end + 4);
    expect(head).toContain('HTTP/1.1 500 Internal Server Error');
    expect(body).toBe('Internal Server Error\r\n\r\nboom ☃ é\r\n\r\n(generated by w)');
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body, 'utf8')}`);
    expect(Buffer.byteLength(body, 'utf8')).toBeGreaterThan(body.length);
  });
  test("toHead: the head alone, with the Content-Length of the GET's answer (RFC 9110 §9.3.2)", () => {
    const full = text(errorResponse({ status: 500, reason: 'boom' }, '1.1', DATE, 'w'));
    const head = text(errorResponse({ status: 500, reason: 'boom' }, '1.1', DATE, 'w', true));
    expect(head).toBe(full.slice(0, full.indexOf('\r\n\r\n') + 4));
    expect(head).toContain(`Content-Length: ${full.length - head.length}\r\n`);
  });
  test('501 and 505 reason phrases', () => {
    expect(text(errorResponse(ERR.transferCodingUnsupported, '1.1', DATE, 'w'))).toMatch(/^HTTP\/1\.1 501 Not Implemented\r\n/);
    expect(text(errorResponse(ERR.versionNotSupported, '1.0', DATE, 'w'))).toMatch(/^HTTP\/1\.0 505 HTTP Version Not Supported\r\n/);
  });
});
