// requestUrl(): the request.url an app sees. Whatever the Host and target, it is a URL the WHATWG
// parser accepts and serialises to itself, the same URL the parser alone would make (the fast
// path only skips the work), or undefined when no URL can be made (the shell answers 400).
// Also: every method parseHead lets through can become a Fetch Request.
import { fc, test } from '@fast-check/vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHead } from '../../src/http/head.js';
import type { RequestHead } from '../../src/http/types.js';
import { IncomingRequest, requestUrl } from '../../src/fetch/request.js';

const LIMITS = { maxHeaderBytes: 8192, maxBodyBytes: 1000 };
const FALLBACK = '127.0.0.1:8080';

/** The head parseHead makes of `GET target` with this Host, or undefined when it refuses it. */
function parsed(target: string, host: string | undefined, method = 'GET'): RequestHead | undefined {
  const wire = `${method} ${target} HTTP/1.${host === undefined ? 0 : 1}\r\n${host === undefined ? '' : `Host: ${host}\r\n`}\r\n`;
  const result = parseHead(Buffer.from(wire, 'latin1'), 0, LIMITS);
  return result.kind === 'head' ? result.head : undefined;
}

function urlOf(target: string, host: string | undefined, scheme = 'http'): string | undefined {
  const head = parsed(target, host);
  if (head === undefined) throw new Error(`parseHead refused ${target} with Host ${host}`);
  return requestUrl(head, scheme, FALLBACK);
}

/** RFC 9112 §3.3 by the URL parser alone: the authority, then the origin-form as it is. */
function slowPath(head: RequestHead, scheme: string): string | undefined {
  const input =
    head.targetForm === 'absolute'
      ? head.target
      : `${scheme}://${head.host === undefined || head.host === '' ? FALLBACK : head.host}${head.targetForm === 'asterisk' ? '/*' : head.target}`;
  try {
    return new URL(input).href;
  } catch {
    return undefined;
  }
}

describe('request.url from Host and an origin-form target', () => {
  const realUrl = globalThis.URL;
  afterEach(() => {
    globalThis.URL = realUrl;
  });

  it.each([
    ['localhost', '/', 'http://localhost/'],
    ['example.com', '/a/b?c=d&e=%20', 'http://example.com/a/b?c=d&e=%20'],
    ['127.0.0.1:8080', '/x', 'http://127.0.0.1:8080/x'],
    ['a-b.c0.example:65535', '/', 'http://a-b.c0.example:65535/'],
    ['255.0.10.199:1', '/', 'http://255.0.10.199:1/'],
  ])('Host %s takes the fast path: no URL parser', (host, target, url) => {
    const head = parsed(target, host)!;
    globalThis.URL = class {
      constructor() {
        throw new Error('the URL parser was called');
      }
    } as unknown as typeof URL;
    expect(requestUrl(head, 'http', FALLBACK)).toBe(url);
  });

  it.each(['example.0', '256.1.1.1', '1.2.3.4.5', 'a:99999', 'a:65536', 'xn--a', 'XN--A', 'Example.0', 'a.xn--', 'a%2fb'])(
    'Host %s is no URL host: undefined (the shell answers 400)',
    (host) => {
      expect(urlOf('/', host)).toBeUndefined();
    },
  );

  it.each([
    ['127.1', 'http://127.0.0.1/'],
    ['0x7f.1', 'http://127.0.0.1/'],
    ['0x7F.0.0.1:8080', 'http://127.0.0.1:8080/'],
    ['1.2.3.4.', 'http://1.2.3.4/'],
    ['010.1.1.1', 'http://8.1.1.1/'],
    ['Example.COM', 'http://example.com/'],
    ['example.com:80', 'http://example.com/'],
    ['example.com:080', 'http://example.com/'],
    ['example.com:', 'http://example.com/'],
    ['xn--nxasmq6b', 'http://xn--nxasmq6b/'],
    ['[::1]:8080', 'http://[::1]:8080/'],
    ['[0:0::1]', 'http://[::1]/'],
    ['', `http://${FALLBACK}/`],
  ])('Host %s is normalised as the URL parser does: %s', (host, url) => {
    expect(urlOf('/', host)).toBe(url);
  });

  it('the default port is dropped for https too', () => {
    expect(urlOf('/', 'example.com:443', 'https')).toBe('https://example.com/');
    expect(urlOf('/', 'example.com:80', 'https')).toBe('https://example.com:80/');
  });

  it.each([
    ['//evil.test/x', 'http://example.com//evil.test/x'],
    ['/\\evil.test/x', 'http://example.com//evil.test/x'],
    ['/a/%2e%2E/b', 'http://example.com/b'],
    ['/a/%2e/b', 'http://example.com/a/b'],
    ['/a/./b/../c', 'http://example.com/a/c'],
    ["/a'b?c'd", "http://example.com/a'b?c%27d"],
    ['/a"b', 'http://example.com/a%22b'],
  ])('the target %s stays under the Host, as the URL parser makes it: %s', (target, url) => {
    expect(urlOf(target, 'example.com')).toBe(url);
    expect(urlOf(target, 'Example.com')).toBe(url);
  });

  it('a trusted proxy’s authority cannot be replaced by a path that looks like one', () => {
    const head = parsed('http://a//evil.test/x', 'a')!;
    const forwarded = {
      address: '1.2.3.4',
      port: undefined,
      scheme: 'https',
      serverName: 'proxy.test',
      serverPort: 443,
      authority: 'proxy.test',
    } as const;
    expect(requestUrl(head, 'https', FALLBACK, '', forwarded)).toBe('https://proxy.test//evil.test/x');
  });
});

// Hosts from the characters that matter to the URL parser's host rules: letters of both cases
// (and the x of 0x, the n of xn--), digits, dots, hyphens, ports, IP literals and %-escapes; and
// from labels and ports near the edges of those rules (a number's last label, 255/256, 65535/65536).
const hostChar = fc.constantFrom(...'abnzABNXZx0123456789.-:[]%'.split(''));
const numericLabel = fc.constantFrom(
  '0',
  '1',
  '9',
  '00',
  '01',
  '09',
  '10',
  '99',
  '100',
  '127',
  '199',
  '249',
  '255',
  '256',
  '0x7f',
  '0X1F',
  '0x',
  '4294967295',
);
const nameLabel = fc.oneof(
  fc.string({ unit: hostChar, maxLength: 6 }),
  fc.constantFrom('localhost', 'example', 'com', 'a-b', 'xn--a', 'xn--nxasmq6b', 'XN--A', 'axn--b', ''),
);
const port = fc.oneof(
  fc.integer({ min: 0, max: 70000 }).map(String),
  fc.constantFrom(
    '',
    '0',
    '00',
    '080',
    '1',
    '80',
    '443',
    '9999',
    '10000',
    '59999',
    '60000',
    '64999',
    '65000',
    '65499',
    '65500',
    '65529',
    '65530',
    '65535',
    '65536',
    '65539',
    '65540',
    '65599',
    '99999',
    '123456',
  ),
);
const hostValue = fc.oneof(
  fc.string({ unit: hostChar, maxLength: 20 }),
  fc
    .tuple(fc.array(fc.oneof(nameLabel, numericLabel), { minLength: 1, maxLength: 5 }), fc.option(port))
    .map(([labels, p]) => labels.join('.') + (p === null ? '' : `:${p}`)),
  fc
    .tuple(fc.array(numericLabel, { minLength: 1, maxLength: 5 }), fc.option(port))
    .map(([labels, p]) => labels.join('.') + (p === null ? '' : `:${p}`)),
  // Candidates for the fast path: lower-case names and dotted numbers.
  fc
    .tuple(
      fc.array(
        fc.oneof(numericLabel, fc.constantFrom('a', 'localhost', 'example', 'com', 'a-b', 'b0', 'xn--a', 'xn--nxasmq6b', 'axn--b')),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      fc.option(port),
    )
    .map(([labels, p]) => labels.join('.') + (p === null ? '' : `:${p}`)),
  fc.constantFrom('[::1]', '[::1]:8080', '[0::1]', '[::ffff:127.0.0.1]', '[1:2:3:4:5:6:7:8:9]'),
);
const pathPiece = fc.constantFrom(...'/.%2eEa?\\:@\'"^`{}|~!$&*+,;='.split(''), '%2e', '%2E', '%2f', '..', '/.', '//');
const path = fc.array(pathPiece, { maxLength: 10 }).map((pieces) => pieces.join(''));
const plainPath = fc.array(fc.constantFrom('/', '.', '..', 'a', '%2e', '%2E', '%2f', '?', '=', ':', '@'), { maxLength: 8 });
const target = fc.oneof(
  path.map((p) => '/' + p),
  plainPath.map((pieces) => '/' + pieces.join('')),
  fc.tuple(hostValue, path).map(([h, p]) => `http://${h}/${p}`),
  fc.constant('*'),
);

describe('request.url properties', () => {
  test.prop([target, fc.option(hostValue, { nil: undefined }), fc.constantFrom('http', 'https')], { numRuns: 10000 })(
    'for any head parseHead accepts: a URL that serialises to itself, and the one the URL parser alone makes',
    (t, host, scheme) => {
      const head = parsed(t, host, t === '*' ? 'OPTIONS' : 'GET');
      if (head === undefined) return;
      const url = requestUrl(head, scheme, FALLBACK);
      expect(url).toBe(slowPath(head, scheme));
      if (url !== undefined) expect(new URL(url).href).toBe(url);
    },
  );

  test.prop([
    fc.string({ unit: fc.constantFrom(..."!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".split('')), minLength: 1, maxLength: 8 }),
  ])('every method parseHead accepts becomes a Fetch Request (the others got their 501)', (method) => {
    const head = parsed('/', 'a', method);
    if (head === undefined) return;
    expect(() => new IncomingRequest(head, 'http://a/', null).materialize()).not.toThrow();
  });

  it('CONNECT, TRACE and TRACK are refused by parseHead: Fetch would throw for them', () => {
    for (const method of ['CONNECT', 'TRACE', 'TRACK']) {
      expect(() => new Request('http://a/', { method })).toThrow();
      expect(parsed(method === 'CONNECT' ? 'a:1' : '/', 'a', method)).toBeUndefined();
    }
  });
});
