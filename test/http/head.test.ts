// test/http/head.test.ts: parseHead(), one describe per RFC section, Waitress's tricky inputs
// (measured on Waitress 2.1.2) among them. Every refusal is asserted by status AND code.
import { describe, expect, test } from 'vitest';
import { ERR } from '../../src/http/errors.js';
import { parseHead } from '../../src/http/head.js';
import { LIMITS, bytes, expectError, head, parse } from './helpers.js';

const GET = 'GET / HTTP/1.1\r\nHost: example.com\r\n';

describe('RFC 9112 §2.2 Message parsing: line endings and empty lines', () => {
  test('a minimal HTTP/1.1 request parses, consumed covers the whole head', () => {
    const r = parse('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r).toEqual({
      kind: 'head',
      consumed: 27,
      head: {
        method: 'GET',
        target: '/',
        targetForm: 'origin',
        version: '1.1',
        headers: ['host', 'a'],
        host: 'a',
        framing: { kind: 'none' },
        keepAlive: true,
        expectsContinue: false,
      },
    });
  });

  test('empty lines before the request line are skipped and counted in consumed', () => {
    const r = parse('\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(r.kind).toBe('head');
    if (r.kind === 'head') {
      expect(r.consumed).toBe(31);
      expect(r.head.method).toBe('GET');
    }
  });

  test('only CRLFs so far is need-more, as is a lone CR', () => {
    expect(parse('\r\n\r\n\r\n').kind).toBe('need-more');
    expect(parse('\r').kind).toBe('need-more');
    expect(parse('').kind).toBe('need-more');
  });

  test('an incomplete head is need-more, including a split final CRLFCRLF', () => {
    for (const s of ['GET', 'GET / HTTP/1.1', 'GET / HTTP/1.1\r', 'GET / HTTP/1.1\r\n', 'GET / HTTP/1.1\r\nHost: a\r\n\r']) {
      expect(parse(s).kind, JSON.stringify(s)).toBe('need-more');
    }
  });

  test('bytes after the head (a body, the next request) are not consumed', () => {
    const r = parse('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n');
    expect(r.kind === 'head' && r.consumed).toBe(47);
  });

  test('parsing starts at `start` and consumed is counted from it', () => {
    const buf = bytes('XXXXGET / HTTP/1.1\r\nHost: a\r\n\r\nYY');
    const r = parseHead(buf, 4, LIMITS);
    expect(r.kind === 'head' && r.consumed).toBe(27);
    expect(r.kind === 'head' && r.head.target).toBe('/');
  });

  test('a LF-only request gets 400 at once instead of waiting for CRLFCRLF (Waitress hangs)', () => {
    expectError(parse('GET / HTTP/1.1\n\n'), ERR.bareLineFeed);
    expectError(parse('GET / HTTP/1.1\nHost: t\n'), ERR.bareLineFeed);
  });

  test('a bare LF is refused before the head is complete', () => {
    expectError(parse('GET / HTTP/1.1\r\nHost: t\nX'), ERR.bareLineFeed);
    expectError(parse('\n'), ERR.bareLineFeed);
    expectError(parse('\r\n\nGET'), ERR.bareLineFeed);
  });

  test('Waitress: bare LF between request line and fields, and inside the field section', () => {
    expectError(parse('GET / HTTP/1.1\nHost: t\r\n\r\n'), ERR.bareLineFeed);
    expectError(parse(`${GET}X-A: b\nX-B: c\r\n\r\n`), ERR.bareLineFeed);
  });

  test('a bare CR anywhere in the head is 400 (value, name, request line, separator)', () => {
    expectError(parse(`${GET}X-A: b\rc\r\n\r\n`), ERR.bareCarriageReturn);
    expectError(parse(`${GET}X-A: b\r\r\n\r\n`), ERR.bareCarriageReturn);
    expectError(parse(`${GET}X\r-A: b\r\n\r\n`), ERR.bareCarriageReturn);
    expectError(parse('GET /\r HTTP/1.1\r\nHost: a\r\n\r\n'), ERR.bareCarriageReturn);
    expectError(parse('GET / HTTP/1.1\r\r\nHost: a\r\n\r\n'), ERR.bareCarriageReturn);
    expectError(parse('GET\r/ HTTP/1.1\r\nHost: a\r\n\r\n'), ERR.bareCarriageReturn);
    expectError(parse('\r\r\n\r\n'), ERR.bareCarriageReturn);
  });

  test('a bare CR is refused before the head is complete', () => {
    expectError(parse('GET / HTTP/1.1\r\nHost: a\rb'), ERR.bareCarriageReturn);
    expectError(parse('GET / HTTP/1.1\r\n\rX'), ERR.bareCarriageReturn);
  });
});

describe('RFC 6585 §5 head size limit (431)', () => {
  const s = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'; // 27 bytes
  test('a complete head of exactly maxHeaderBytes is accepted', () => {
    expect(parse(s, { maxHeaderBytes: 27, maxBodyBytes: 0 }).kind).toBe('head');
  });
  test('a complete head one byte over maxHeaderBytes is 431', () => {
    const r = parse(s, { maxHeaderBytes: 26, maxBodyBytes: 0 });
    expect(r.kind === 'error' && r.error.status).toBe(431);
    expect(r.kind === 'error' && r.error.code).toBe('WS_ERR_HEAD_TOO_LARGE');
    expect(r.kind === 'error' && r.error.reason).toContain('26');
  });
  test('an incomplete head is 431 as soon as it exceeds the limit, not before', () => {
    const partial = 'GET / HTTP/1.1\r\nHost: aaaaaaaaaaaaa';
    expect(parse(partial, { maxHeaderBytes: partial.length, maxBodyBytes: 0 }).kind).toBe('need-more');
    const r = parse(partial, { maxHeaderBytes: partial.length - 1, maxBodyBytes: 0 });
    expect(r.kind === 'error' && r.error.status).toBe(431);
  });
  test('leading empty lines count toward the limit', () => {
    const r = parse('\r\n'.repeat(20), { maxHeaderBytes: 39, maxBodyBytes: 0 });
    expect(r.kind === 'error' && r.error.status).toBe(431);
    expect(parse(`\r\n${s}`, { maxHeaderBytes: 29, maxBodyBytes: 0 }).kind).toBe('head');
    expect(parse(`\r\n${s}`, { maxHeaderBytes: 28, maxBodyBytes: 0 }).kind).toBe('error');
  });
  test('a big pipelined remainder after a small head does not trip the limit', () => {
    const r = parse(s + 'x'.repeat(100), { maxHeaderBytes: 27, maxBodyBytes: 0 });
    expect(r.kind === 'head' && r.consumed).toBe(27);
  });
});

describe('RFC 9112 §3 request line', () => {
  test('method, target and version are split on single spaces', () => {
    const h = head('DELETE /a/b?c=d HTTP/1.1\r\nHost: x\r\n\r\n');
    expect([h.method, h.target, h.version]).toEqual(['DELETE', '/a/b?c=d', '1.1']);
  });
  test('any upper-case token method is accepted but CONNECT, TRACE and TRACK', () => {
    expect(head('FOO-BAR / HTTP/1.1\r\nHost: x\r\n\r\n').method).toBe('FOO-BAR');
    expect(head("M!#$%&'*+.^`|~9 / HTTP/1.1\r\nHost: x\r\n\r\n").method).toBe("M!#$%&'*+.^`|~9");
    for (const m of ['CONNECTS', 'TRACES', 'TRAC', 'XTRACK', 'OPTIONS']) expect(head(`${m} / HTTP/1.1\r\nHost: x\r\n\r\n`).method).toBe(m);
  });
  test.each([
    ['CONNECT', 'example.com:443'],
    ['TRACE', '/'],
    ['TRACE', 'http://x/'],
    ['TRACK', '/x'],
  ])('%s %s is 501: Fetch forbids the method, no app could be given it (RFC 9110 §15.6.2)', (m, t) => {
    expectError(parse(`${m} ${t} HTTP/1.1\r\nHost: x\r\n\r\n`), ERR.methodNotImplemented);
    expectError(parse(`${m} ${t} HTTP/1.0\r\n\r\n`), ERR.methodNotImplemented);
  });
  test('the 501 comes only once the rest of the head is valid', () => {
    expectError(parse('CONNECT /x HTTP/1.1\r\nHost: x\r\n\r\n'), ERR.targetInvalidForm);
    expectError(parse('CONNECT a:1 HTTP/1.1\r\n\r\n'), ERR.hostMissing);
    expectError(parse('TRACE / HTTP/1.1\r\nHost: a b\r\n\r\n'), ERR.hostInvalid);
    expectError(parse('TRACE / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n'), ERR.contentLengthInvalid);
    expectError(parse('TRACK /#f HTTP/1.1\r\nHost: x\r\n\r\n'), ERR.targetFragment);
  });
  test('Waitress: a lower-case letter in the method is 400 (methods are case-sensitive)', () => {
    expectError(parse('get / HTTP/1.1\r\nHost: x\r\n\r\n'), ERR.methodNotUppercase);
    expectError(parse('Get / HTTP/1.1\r\nHost: x\r\n\r\n'), ERR.methodNotUppercase);
  });
  test('Waitress: a non-token method is 400', () => {
    expectError(parse('GE(T / HTTP/1.1\r\nHost: x\r\n\r\n'), ERR.methodInvalid);
    expectError(parse('G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n'), ERR.methodInvalid);
  });
  test.each([
    ['method alone', 'GET'],
    ['no version (HTTP/0.9 form)', 'GET /'],
    ['two words', 'HELLO WORLD'],
    ['double space', 'GET  / HTTP/1.1'],
    ['TAB separators', 'GET\t/\tHTTP/1.1'],
    ['trailing space', 'GET / HTTP/1.1 '],
    ['leading space', ' GET / HTTP/1.1'],
    ['four words', 'GET / HTTP/1.1 X'],
    ['space inside the version', 'GET / HTTP 1.1'],
  ])('Waitress: %s is 400', (_, line) => {
    expectError(parse(`${line}\r\nHost: x\r\n\r\n`), ERR.requestLineInvalid);
  });
});

describe('RFC 9112 §2.3 HTTP-version', () => {
  test('HTTP/1.0 and HTTP/1.1 are accepted', () => {
    expect(head('GET / HTTP/1.0\r\n\r\n').version).toBe('1.0');
    expect(head('GET / HTTP/1.1\r\nHost: a\r\n\r\n').version).toBe('1.1');
  });
  test.each(['http/1.1', 'HTTP/10.0', 'HTTP/1.11', 'HTTP/1', 'HTTP/1.x', 'HTTPS/1.1', 'HTTP/1,1', 'HTTP/1.1\x00', 'HTT/1.0'])(
    '%s is malformed: 400',
    (v) => {
      expectError(parse(`GET / ${v}\r\nHost: x\r\n\r\n`), ERR.versionInvalid);
    },
  );
  test('Waitress: "HTTP/1.0 GET /" is 400 ("HTTP/1.0" is no method, "/" no version)', () => {
    expectError(parse('HTTP/1.0 GET /\r\n\r\n'), ERR.methodInvalid);
    expectError(parse('GET HTTP/1.0 /\r\n\r\n'), ERR.versionInvalid);
  });
  test.each(['HTTP/1.2', 'HTTP/1.9'])('%s is processed as HTTP/1.1 (RFC 9110 §2.5)', (v) => {
    const result = parse(`GET / ${v}\r\nHost: x\r\n\r\n`);
    expect(result.kind === 'head' && result.head.version).toBe('1.1');
  });
  test.each(['HTTP/2.0', 'HTTP/0.9', 'HTTP/0.1', 'HTTP/0.0', 'HTTP/8.4', 'HTTP/3.0'])('well-formed %s is 505', (v) => {
    expectError(parse(`GET / ${v}\r\nHost: x\r\n\r\n`), ERR.versionNotSupported);
  });
  test('505 is decided before the target is judged (PRI * HTTP/2.0 is the HTTP/2 preface)', () => {
    expectError(parse('PRI * HTTP/2.0\r\n\r\n'), ERR.versionNotSupported);
  });
});

describe('RFC 9112 §3.2 request-target', () => {
  test('origin-form', () => {
    const h = head('GET /a%2Fb%20c?x=%20y&z HTTP/1.1\r\nHost: x\r\n\r\n');
    expect([h.target, h.targetForm]).toEqual(['/a%2Fb%20c?x=%20y&z', 'origin']);
    expect(head('GET ///a//b?x=1 HTTP/1.1\r\nHost: x\r\n\r\n').target).toBe('///a//b?x=1');
  });
  test('absolute-form', () => {
    const h = head('GET http://example.com:8080/p/q?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n');
    expect([h.target, h.targetForm]).toEqual(['http://example.com:8080/p/q?x=1', 'absolute']);
    expect(head('GET svn+ssh://h/x HTTP/1.1\r\nHost: h\r\n\r\n').targetForm).toBe('absolute');
  });
  test('authority-form, for CONNECT only (which then gets its 501)', () => {
    expectError(parse('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'), ERR.methodNotImplemented);
    expectError(parse('CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n'), ERR.methodNotImplemented);
    expectError(parse('GET example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n'), ERR.targetInvalidForm);
  });
  test('CONNECT needs host:port, nothing else', () => {
    for (const t of ['/', 'example.com', 'example.com:', '[::1]', 'http://example.com:443/', ':443', 'a:b:443', 'h:123456']) {
      expectError(parse(`CONNECT ${t} HTTP/1.1\r\nHost: x\r\n\r\n`), ERR.targetInvalidForm);
    }
  });
  test('asterisk-form, for OPTIONS only', () => {
    const h = head('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n');
    expect([h.target, h.targetForm]).toEqual(['*', 'asterisk']);
    expectError(parse('GET * HTTP/1.1\r\nHost: x\r\n\r\n'), ERR.targetInvalidForm);
    expectError(parse('OPTIONS *x HTTP/1.1\r\nHost: x\r\n\r\n'), ERR.targetInvalidForm);
  });
  test('OPTIONS may use origin-form too', () => {
    expect(head('OPTIONS /x HTTP/1.1\r\nHost: x\r\n\r\n').targetForm).toBe('origin');
  });
  test.each(['WORLD', 'example.com/x', '1http://x/', 'http:/x', 'ht^tp://x/', '?q', '#f'])('%s is in no form: 400', (t) => {
    expectError(parse(`GET ${t} HTTP/1.1\r\nHost: x\r\n\r\n`), ERR.targetInvalidForm);
  });
  test.each(['/page#frag', '/#', '/a?b=c#', '/a#b#c', '//x#', 'http://x/p#f', 'http://x#f', 'svn+ssh://h/x#'])(
    'a fragment (%s) is 400: neither origin-form nor absolute-URI has one (RFC 9112 §3.2.1, RFC 3986 §4.3)',
    (t) => {
      expectError(parse(`GET ${t} HTTP/1.1\r\nHost: x\r\n\r\n`), ERR.targetFragment);
    },
  );
  test('Waitress: non-ASCII in the target is 400, also after "//" (Waitress let that through)', () => {
    expectError(parse('GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n'), ERR.targetInvalidChar);
    expectError(parse('GET //caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n'), ERR.targetInvalidChar);
  });
  test('NUL, DEL and other CTLs in the target are 400 (Waitress passed them to the app)', () => {
    for (const c of ['\x00', '\x7f', '\x01', '\x1f', '\t']) {
      expectError(parse(`GET /a${c}b HTTP/1.1\r\nHost: x\r\n\r\n`), ERR.targetInvalidChar);
    }
  });
});

describe('RFC 9112 §5 field lines', () => {
  test('names are lower-cased, values trimmed of SP/HTAB only, inner whitespace kept', () => {
    const h = head(`${GET}X-Custom: \t a  b\tc \t\r\nACCEPT:*/*\r\n\r\n`);
    expect(h.headers).toEqual(['host', 'example.com', 'x-custom', 'a  b\tc', 'accept', '*/*']);
  });
  test('an empty value is kept as ""', () => {
    expect(head(`${GET}X-Empty:\r\nX-Blank:   \r\n\r\n`).headers).toEqual(['host', 'example.com', 'x-empty', '', 'x-blank', '']);
  });
  test('repeated fields are all kept, in arrival order', () => {
    expect(head(`${GET}Cookie: a=1\r\nX: 1\r\nCookie: b=2\r\n\r\n`).headers).toEqual([
      'host',
      'example.com',
      'cookie',
      'a=1',
      'x',
      '1',
      'cookie',
      'b=2',
    ]);
  });
  test('Waitress: obs-text is kept as latin1 and \\xa0 / \\x85 are not whitespace', () => {
    expect(head(`${GET}X-T: \xa0v\x85 \xff\r\n\r\n`).headers[3]).toBe('\xa0v\x85 \xff');
  });
  test('Waitress: names with "_" are silently dropped, the rest is served', () => {
    expect(head(`${GET}X_Foo: 1\r\nX-Foo_Baz: 2\r\nX-Ok: 3\r\n\r\n`).headers).toEqual(['host', 'example.com', 'x-ok', '3']);
  });
  test('a dropped name is still validated', () => {
    expectError(parse(`${GET}X_Foo: a\x01\r\n\r\n`), ERR.fieldValueInvalid);
  });
  test('Waitress: whitespace between name and colon is 400 (RFC 9112 §5.1)', () => {
    expectError(parse(`${GET}X-A : b\r\n\r\n`), ERR.whitespaceBeforeColon);
    expectError(parse(`${GET}X-A\t: b\r\n\r\n`), ERR.whitespaceBeforeColon);
    expectError(parse(`${GET}Transfer-Encoding : chunked\r\n\r\n`), ERR.whitespaceBeforeColon);
  });
  test('Waitress: a line without colon, an empty name, a non-token name are 400', () => {
    expectError(parse(`${GET}NoColonHere\r\n\r\n`), ERR.fieldNoColon);
    expectError(parse(`${GET}: x\r\n\r\n`), ERR.fieldNameEmpty);
    expectError(parse(`${GET}X(A): b\r\n\r\n`), ERR.fieldNameInvalid);
    expectError(parse(`${GET}X A: b\r\n\r\n`), ERR.fieldNameInvalid);
    expectError(parse(`${GET}X-\xe9: b\r\n\r\n`), ERR.fieldNameInvalid);
  });
  test.each([
    ['NUL', '\x00'],
    ['SOH', '\x01'],
    ['DEL', '\x7f'],
    ['VT', '\x0b'],
    ['FF', '\x0c'],
    ['ESC', '\x1b'],
  ])('Waitress: %s in a value is 400 (RFC 9110 §5.5)', (_, c) => {
    expectError(parse(`${GET}X-A: a${c}b\r\n\r\n`), ERR.fieldValueInvalid);
  });
  test('Waitress CVE-2019-16789: VT is not whitespace, so it cannot hide "chunked"', () => {
    expectError(parse(`${GET}Transfer-Encoding:\x0bchunked\r\n\r\n`), ERR.fieldValueInvalid);
  });
});

describe('RFC 9112 §5.2 obs-fold', () => {
  test('a fold is replaced by one SP (Waitress kept the continuation whitespace instead)', () => {
    expect(head(`${GET}X-Fold: a\r\n  b\r\n\tc\r\n\r\n`).headers.slice(2)).toEqual(['x-fold', 'a b c']);
  });
  test('OWS around the fold collapses into that one SP', () => {
    expect(head(`${GET}X-Fold: a \t\r\n \t b \r\n\r\n`).headers.slice(2)).toEqual(['x-fold', 'a b']);
  });
  test('folding an empty value, or an empty continuation', () => {
    expect(head(`${GET}X-Fold:\r\n b\r\n\r\n`).headers.slice(2)).toEqual(['x-fold', 'b']);
    expect(head(`${GET}X-Fold: a\r\n \r\n\r\n`).headers.slice(2)).toEqual(['x-fold', 'a']);
  });
  test.each([
    'Transfer-Encoding:\r\n chunked',
    'Transfer-Encoding: chunked\r\n ',
    'transfer-encoding: gzip,\r\n\tchunked',
    'Content-Length:\r\n 5',
    'Content-Length: 5\r\n ',
    'CONTENT-LENGTH: 1\r\n 2',
  ])('a fold in a field that frames the body (%j) is 400: a proxy that does not unfold frames it otherwise (RFC 9112 §5.2, §6)', (f) => {
    expectError(parse(`POST / HTTP/1.1\r\nHost: a\r\n${f}\r\n\r\n`), ERR.framingFieldFolded);
    expectError(parse(`POST / HTTP/1.0\r\n${f}\r\n\r\n`), ERR.framingFieldFolded);
  });
  test('fields near the framing ones are unfolded as usual', () => {
    const h = head(`POST / HTTP/1.1\r\nHost:\r\n a\r\nX-Transfer-Encoding:\r\n chunked\r\nContent-Lengths: 1\r\n 2\r\n\r\n`);
    expect(h.headers).toEqual(['host', 'a', 'x-transfer-encoding', 'chunked', 'content-lengths', '1 2']);
    expect([h.host, h.framing]).toEqual(['a', { kind: 'none' }]);
  });
  test('a continuation is validated like a value', () => {
    expectError(parse(`${GET}X-Fold: a\r\n b\x00\r\n\r\n`), ERR.fieldValueInvalid);
  });
  test('the fold of a dropped "_" field is dropped with it', () => {
    expect(head(`${GET}X_A: a\r\n b\r\nX-B: c\r\n\r\n`).headers).toEqual(['host', 'example.com', 'x-b', 'c']);
  });
  test('Waitress: a fold on the first field line is 400 (RFC 9112 §2.2)', () => {
    expectError(parse('GET / HTTP/1.0\r\n Host: 0\r\n\r\n'), ERR.whitespaceBeforeFirstField);
    expectError(parse('GET / HTTP/1.1\r\n\tHost: 0\r\n\r\n'), ERR.whitespaceBeforeFirstField);
  });
});

describe('RFC 9112 §3.2 Host', () => {
  test('head.host is the one Host value', () => {
    expect(head('GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n').host).toBe('example.com:8080');
  });
  test('HTTP/1.1 without Host is 400 (Waitress accepted it)', () => {
    expectError(parse('GET / HTTP/1.1\r\nX: y\r\n\r\n'), ERR.hostMissing);
  });
  test('HTTP/1.0 may omit Host', () => {
    expect(head('GET / HTTP/1.0\r\n\r\n').host).toBeUndefined();
  });
  test('more than one Host is 400 on any version, even equal values', () => {
    expectError(parse('GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n'), ERR.hostDuplicate);
    expectError(parse('GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n'), ERR.hostDuplicate);
  });
  test.each([
    '',
    'example.com',
    'example.com:',
    'example.com:80',
    'EXAMPLE.com:65535',
    '127.0.0.1:8080',
    '[::1]',
    '[::1]:8080',
    '[2001:db8::1.2.3.4]',
    '%41b.c',
    "a-b_c~d!$&'()*+,;=",
    ':80',
  ])('valid Host %j', (h) => {
    expect(head(`GET / HTTP/1.1\r\nHost: ${h}\r\n\r\n`).host).toBe(h);
  });
  test.each(['a b', '{', '\xff', 'a/b', 'a@b', '[::1', '[]', '[::1]x', '[g::1]', 'h:80x', 'h:123456', 'a:b:c', '%4', '%zz', 'a\\b', 'a?b'])(
    'invalid Host %j is 400',
    (h) => {
      expectError(parse(`GET / HTTP/1.1\r\nHost: ${h}\r\n\r\n`), ERR.hostInvalid);
    },
  );
});

describe('RFC 9112 §6.3 / RFC 9110 §8.6 Content-Length', () => {
  const post = (cl: string, limits = LIMITS) => parse(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${cl}\r\n\r\n`, limits);
  test('digits give length framing; OWS around the value is fine', () => {
    const r = post(' 5 ');
    expect(r.kind === 'head' && r.head.framing).toEqual({ kind: 'length', length: 5 });
    const r2 = post('0012');
    expect(r2.kind === 'head' && r2.head.framing).toEqual({ kind: 'length', length: 12 });
  });
  test('Content-Length: 0 means no body', () => {
    const r = post('0');
    expect(r.kind === 'head' && r.head.framing).toEqual({ kind: 'none' });
  });
  test('the Content-Length field stays in headers', () => {
    const r = post('5');
    expect(r.kind === 'head' && r.head.headers).toEqual(['host', 'a', 'content-length', '5']);
  });
  test.each(['abc', '0x5', '5, 5', '5,5', '', '+5', '-1', '1 2', '5;', '1e3', '1.0', '\xb9'])(
    'Waitress: Content-Length %j is 400',
    (cl) => {
      expectError(post(cl), ERR.contentLengthInvalid);
    },
  );
  test('two Content-Length fields are 400, even with equal values', () => {
    expectError(parse('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n'), ERR.contentLengthDuplicate);
    expectError(parse('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n'), ERR.contentLengthDuplicate);
  });
  test('a value beyond Number.MAX_SAFE_INTEGER is 400, at the limit it is 413 (not representable vs too big)', () => {
    expectError(post('9007199254740992'), ERR.contentLengthOverflow);
    expectError(post('99999999999999999999'), ERR.contentLengthOverflow);
    const r = post('9007199254740991');
    expect(r.kind === 'error' && r.error.status).toBe(413);
  });
  test('a length over maxBodyBytes is 413 before any body is read; equal to it is fine', () => {
    const limits = { maxHeaderBytes: 8192, maxBodyBytes: 100 };
    const r = post('101', limits);
    expect(r.kind === 'error' && [r.error.status, r.error.code]).toEqual([413, 'WS_ERR_BODY_TOO_LARGE']);
    expect(r.kind === 'error' && r.error.reason).toContain('100');
    expect(post('100', limits).kind).toBe('head');
  });
});

describe('RFC 9112 §6.1 Transfer-Encoding', () => {
  const post = (te: string, extra = '', version = '1.1') =>
    parse(`POST / HTTP/${version}\r\nHost: a\r\nTransfer-Encoding: ${te}\r\n${extra}\r\n`);
  test.each(['chunked', 'Chunked', 'CHUNKED', 'chunked,', ', chunked', ' ,, chunked , '])('%j is chunked framing', (te) => {
    const r = post(te);
    expect(r.kind === 'head' && r.head.framing).toEqual({ kind: 'chunked' });
  });
  test('the TE field is kept as sent', () => {
    const r = post('Chunked');
    expect(r.kind === 'head' && r.head.headers).toEqual(['host', 'a', 'transfer-encoding', 'Chunked']);
  });
  test('a list spread over several TE fields is one list', () => {
    expectError(post('gzip', 'Transfer-Encoding: chunked\r\n'), ERR.transferCodingUnsupported);
    expectError(post('chunked', 'Transfer-Encoding: gzip\r\n'), ERR.chunkedNotFinal);
  });
  test('an empty TE value is ignored as if absent (CL framing applies)', () => {
    const r = post('', 'Content-Length: 3\r\n');
    expect(r.kind === 'head' && r.head.framing).toEqual({ kind: 'length', length: 3 });
    const r2 = post(' , ,', '', '1.0');
    expect(r2.kind === 'head' && r2.head.framing).toEqual({ kind: 'none' });
  });
  test('Waitress: chunked twice (one field or two) is 400 (RFC 9112 §7)', () => {
    expectError(post('chunked, chunked'), ERR.chunkedTwice);
    expectError(post('chunked', 'Transfer-Encoding: chunked\r\n'), ERR.chunkedTwice);
  });
  test.each(['gzip', 'identity', 'chunked, gzip', 'chunked;q=1', 'x-chunked', 'chunked-false'])(
    '%j: chunked is not the final coding → 400 (RFC 9112 §6.3)',
    (te) => {
      expectError(post(te), ERR.chunkedNotFinal);
    },
  );
  test('Waitress: "gzip, chunked" is 501: a coding we do not implement (RFC 9112 §6.1)', () => {
    expectError(post('gzip, chunked'), ERR.transferCodingUnsupported);
    expectError(post('identity, chunked'), ERR.transferCodingUnsupported);
  });
  test('TE on HTTP/1.0 is 400, whatever the coding (Waitress ignored it and framed by CL)', () => {
    expectError(post('chunked', '', '1.0'), ERR.transferEncodingHttp10);
    expectError(post('gzip', 'Content-Length: 3\r\n', '1.0'), ERR.transferEncodingHttp10);
  });
  test('TE with Content-Length is 400 (Waitress served it and kept the connection)', () => {
    expectError(post('chunked', 'Content-Length: 5\r\n'), ERR.transferEncodingWithContentLength);
    expectError(post('chunked', 'Content-Length: 0\r\n'), ERR.transferEncodingWithContentLength);
  });
  test('chunked framing ignores maxBodyBytes at the head (the decoder enforces it)', () => {
    const r = parse('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', { maxHeaderBytes: 8192, maxBodyBytes: 0 });
    expect(r.kind === 'head' && r.head.framing.kind).toBe('chunked');
  });
});

describe('RFC 9112 §9.3 persistence', () => {
  const ka = (version: string, extra: string) => head(`GET / HTTP/${version}\r\nHost: a\r\n${extra}\r\n`).keepAlive;
  test('HTTP/1.1 persists by default; HTTP/1.0 does not', () => {
    expect(ka('1.1', '')).toBe(true);
    expect(ka('1.0', '')).toBe(false);
  });
  test('close, in any case and any list position, ends persistence', () => {
    expect(ka('1.1', 'Connection: close\r\n')).toBe(false);
    expect(ka('1.1', 'Connection: CLOSE\r\n')).toBe(false);
    expect(ka('1.1', 'Connection: keep-alive, close\r\n')).toBe(false); // Waitress kept it open
    expect(ka('1.1', 'Connection: upgrade\r\nConnection: close\r\n')).toBe(false);
    expect(ka('1.0', 'Connection: close, keep-alive\r\n')).toBe(false);
  });
  test('HTTP/1.0 persists only with a keep-alive token', () => {
    expect(ka('1.0', 'Connection: keep-alive\r\n')).toBe(true);
    expect(ka('1.0', 'Connection: Keep-Alive, Foo\r\n')).toBe(true); // Waitress closed
    expect(ka('1.0', 'Connection: foo\r\nConnection: ,keep-alive,\r\n')).toBe(true);
    expect(ka('1.0', 'Connection: keep-alive-x\r\n')).toBe(false);
    expect(ka('1.0', 'Connection: closed\r\n')).toBe(false);
  });
  test('close-ish tokens that are not close do not end persistence', () => {
    expect(ka('1.1', 'Connection: closed\r\n')).toBe(true);
    expect(ka('1.1', 'Connection: "close"\r\n')).toBe(true);
  });
});

describe('RFC 9110 §10.1.1 Expect', () => {
  const ec = (version: string, extra: string) => head(`POST / HTTP/${version}\r\nHost: a\r\n${extra}\r\n`).expectsContinue;
  test('100-continue (any case) on a 1.1 request with a body', () => {
    expect(ec('1.1', 'Expect: 100-continue\r\nContent-Length: 5\r\n')).toBe(true);
    expect(ec('1.1', 'Expect: 100-Continue\r\nTransfer-Encoding: chunked\r\n')).toBe(true);
  });
  test('no body, CL 0 or HTTP/1.0: no 100 (Waitress sent one and hung)', () => {
    expect(ec('1.1', 'Expect: 100-continue\r\n')).toBe(false);
    expect(ec('1.1', 'Expect: 100-continue\r\nContent-Length: 0\r\n')).toBe(false);
    expect(ec('1.0', 'Expect: 100-continue\r\nContent-Length: 5\r\n')).toBe(false);
  });
  test('other expectations are ignored and passed through', () => {
    const h = head('POST / HTTP/1.1\r\nHost: a\r\nExpect: foo\r\nContent-Length: 5\r\n\r\n');
    expect(h.expectsContinue).toBe(false);
    expect(h.headers).toContain('foo');
    expect(ec('1.1', 'Expect: 100-continue, foo\r\nContent-Length: 5\r\n')).toBe(false);
  });
  test('an oversize body with Expect is refused with 413 at the head, so no 100 is sent', () => {
    const r = parse('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n');
    expect(r.kind === 'error' && r.error.status).toBe(413);
  });
});

describe('a typical browser request', () => {
  test('every field comes through, in order, with framing and persistence derived', () => {
    const h = head(
      'GET /search?q=x HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n' +
        'Accept: text/html,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n' +
        'Connection: keep-alive\r\nCookie: a=1; b=2\r\n\r\n',
    );
    expect(h).toEqual({
      method: 'GET',
      target: '/search?q=x',
      targetForm: 'origin',
      version: '1.1',
      headers: [
        'host',
        'www.example.org',
        'user-agent',
        'Mozilla/5.0 (X11; Linux x86_64)',
        'accept',
        'text/html,*/*;q=0.8',
        'accept-language',
        'en-US,en;q=0.5',
        'accept-encoding',
        'gzip, deflate, br',
        'connection',
        'keep-alive',
        'cookie',
        'a=1; b=2',
      ],
      host: 'www.example.org',
      framing: { kind: 'none' },
      keepAlive: true,
      expectsContinue: false,
    });
  });
  test('works on a plain Uint8Array as well as on a Buffer', () => {
    const u = new Uint8Array(bytes('GET /x HTTP/1.1\r\nHost: a\r\nX: \xe9\r\n\r\n'));
    const r = parseHead(u, 0, LIMITS);
    expect(r.kind === 'head' && r.head.headers).toEqual(['host', 'a', 'x', '\xe9']);
  });
});
