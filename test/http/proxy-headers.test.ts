// Proxy headers read with Waitress's rules (its tests/test_proxy_headers.py, the same inputs and
// expectations, in waitstate's terms), RFC 7239 node syntax, and removal of untrusted fields.
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { PROXY_HEADERS, readProxyHeaders, type ForwardedClient, type ProxyHeader } from '../../src/http/proxy-headers.js';

const flat = (fields: Record<string, string>) => Object.entries(fields).flatMap(([name, value]) => [name.toLowerCase(), value]);
const trust = (headers: ProxyHeader[], count = 1) => ({ count, headers: new Set(headers) });
const XF: ProxyHeader[] = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port'];

function applied(fields: Record<string, string>, headers: ProxyHeader[], count = 1, scheme = 'http') {
  const result = readProxyHeaders(flat(fields), trust(headers, count), true, scheme);
  if (result.kind !== 'applied') throw new Error(`expected applied, got ${JSON.stringify(result)}`);
  return result;
}

describe('what a trusted proxy says about the client', () => {
  const cases: [string, Record<string, string>, ProxyHeader[], number, Partial<ForwardedClient>][] = [
    [
      'X-Forwarded-Proto https sets the scheme and port 443',
      { 'X-Forwarded-Proto': 'https' },
      ['x-forwarded-proto'],
      1,
      { scheme: 'https', serverPort: 443, address: undefined },
    ],
    ['X-Forwarded-For, one hop', { 'X-Forwarded-For': '192.0.2.1' }, ['x-forwarded-for'], 1, { address: '192.0.2.1', port: undefined }],
    ['X-Forwarded-For, a bare IPv6 address', { 'X-Forwarded-For': '2001:db8::0' }, ['x-forwarded-for'], 1, { address: '2001:db8::0' }],
    [
      'X-Forwarded-For, a bracketed IPv6 address with port',
      { 'X-Forwarded-For': '[2001:db8::1]:3821' },
      ['x-forwarded-for'],
      1,
      { address: '2001:db8::1', port: 3821 },
    ],
    [
      'X-Forwarded-For, an IPv4-mapped IPv6 address',
      { 'X-Forwarded-For': '::ffff:192.0.2.1' },
      ['x-forwarded-for'],
      1,
      { address: '::ffff:192.0.2.1', port: undefined },
    ],
    [
      'X-Forwarded-For, IPv4 with port',
      { 'X-Forwarded-For': '192.0.2.1:5000' },
      ['x-forwarded-for'],
      1,
      { address: '192.0.2.1', port: 5000 },
    ],
    [
      'X-Forwarded-For, two trusted hops of three',
      { 'X-Forwarded-For': '192.0.2.1, 198.51.100.2, 203.0.113.1' },
      ['x-forwarded-for'],
      2,
      { address: '198.51.100.2' },
    ],
    [
      'X-Forwarded-For, more trusted hops than sent',
      { 'X-Forwarded-For': '192.0.2.1, 198.51.100.2' },
      ['x-forwarded-for'],
      5,
      { address: '192.0.2.1' },
    ],
    [
      'X-Forwarded-Host with a port beats the proto default',
      { 'X-Forwarded-For': '192.0.2.1, 198.51.100.2, 203.0.113.1', 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': 'example.com:8080' },
      ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
      2,
      { address: '198.51.100.2', serverName: 'example.com', authority: 'example.com:8080', serverPort: 8080, scheme: 'http' },
    ],
    [
      'X-Forwarded-Host without a port takes the proto default',
      { 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': 'example.com' },
      ['x-forwarded-proto', 'x-forwarded-host'],
      2,
      { serverName: 'example.com', authority: 'example.com', serverPort: 80 },
    ],
    [
      'X-Forwarded-Port joins a host without port',
      { 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': 'example.com', 'X-Forwarded-Port': '8080' },
      XF,
      2,
      { serverName: 'example.com', authority: 'example.com:8080', serverPort: 8080 },
    ],
    [
      'X-Forwarded-Host, two trusted hosts: the older',
      { 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': 'example.com, example.org', 'X-Forwarded-Port': '8080' },
      XF,
      2,
      { serverName: 'example.com', authority: 'example.com:8080', serverPort: 8080 },
    ],
    [
      'X-Forwarded-Host, one trusted host: the last',
      {
        'X-Forwarded-For': '192.0.2.1, 198.51.100.2, 203.0.113.1',
        'X-Forwarded-Proto': 'http',
        'X-Forwarded-Host': 'example.com, example.org',
        'X-Forwarded-Port': '8080',
      },
      XF,
      1,
      { address: '203.0.113.1', serverName: 'example.org', authority: 'example.org:8080', serverPort: 8080 },
    ],
    [
      'X-Forwarded-Port 443 with proto http stays in the authority',
      { 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': 'example.com', 'X-Forwarded-Port': '443' },
      XF,
      1,
      { authority: 'example.com:443', serverPort: 443 },
    ],
    [
      'X-Forwarded-Port 80 with proto https stays in the authority',
      { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'example.com', 'X-Forwarded-Port': '80' },
      XF,
      1,
      { authority: 'example.com:80', serverPort: 80, scheme: 'https' },
    ],
    ['X-Forwarded-Proto is case-insensitive', { 'X-Forwarded-Proto': 'HTTPS' }, ['x-forwarded-proto'], 1, { scheme: 'https' }],
    ['X-Forwarded-Proto may be quoted', { 'X-Forwarded-Proto': '"https"' }, ['x-forwarded-proto'], 1, { scheme: 'https' }],
    [
      'Forwarded, one element',
      { Forwarded: 'For=198.51.100.2;host=example.com:8080;proto=https' },
      ['forwarded'],
      1,
      { address: '198.51.100.2', serverName: 'example.com', authority: 'example.com:8080', serverPort: 8080, scheme: 'https' },
    ],
    [
      'Forwarded, two trusted elements of three',
      { Forwarded: 'For=192.0.2.1;host=fake.com, For=198.51.100.2;host=example.com:8080, For=203.0.113.1' },
      ['forwarded'],
      2,
      { address: '198.51.100.2', serverName: 'example.com', authority: 'example.com:8080', serverPort: 8080 },
    ],
    [
      'Forwarded, quoted IPv6 with port, the oldest element wins',
      { Forwarded: 'for="[2001:db8::1]:3821";host="example.com:8443";proto="https", for=192.0.2.1;host="example.internal:8080"' },
      ['forwarded'],
      2,
      { address: '2001:db8::1', port: 3821, serverName: 'example.com', authority: 'example.com:8443', serverPort: 8443, scheme: 'https' },
    ],
    [
      'Forwarded, values missing from the oldest come from the next',
      { Forwarded: 'for="[2001:db8::1]";proto="https", for=192.0.2.1;host="example.org"' },
      ['forwarded'],
      2,
      { address: '2001:db8::1', port: undefined, serverName: 'example.org', authority: 'example.org', serverPort: 443, scheme: 'https' },
    ],
    [
      'Forwarded, a value only a newer element gives',
      { Forwarded: 'host=example.com;proto=https, for=192.0.2.1' },
      ['forwarded'],
      2,
      { address: '192.0.2.1', serverName: 'example.com', scheme: 'https' },
    ],
    ['Forwarded, for=unknown (RFC 7239 §6.2)', { Forwarded: 'for=unknown' }, ['forwarded'], 1, { address: 'unknown' }],
    [
      'Forwarded, an obfuscated node and port (RFC 7239 §6.3)',
      { Forwarded: 'for="_hidden:_port"' },
      ['forwarded'],
      1,
      { address: '_hidden', port: undefined },
    ],
    [
      'Forwarded, two field lines are one list (RFC 9110 §5.3)',
      { Forwarded: 'for=192.0.2.1', forwarded: 'for=198.51.100.2' },
      ['forwarded'],
      1,
      { address: '198.51.100.2' },
    ],
  ];
  it.each(cases)('%s', (_, fields, headers, count, expected) => {
    // Two keys differing in case stand for two field lines of one field.
    expect(applied(fields, headers, count).client).toMatchObject(expected);
  });

  it('says nothing about what no trusted field told', () => {
    expect(applied({ 'X-Forwarded-Proto': 'https' }, ['x-forwarded-for']).client).toBeUndefined();
  });

  it('keeps only the trusted hops of the fields the app sees (Waitress 3.0.2)', () => {
    const result = applied({ 'X-Forwarded-For': '9.9.9.9, 1.2.3.4', 'X-Forwarded-Host': 'evil.test, example.com' }, [
      'x-forwarded-for',
      'x-forwarded-host',
    ]);
    expect(result.headers).toEqual(['x-forwarded-for', '1.2.3.4', 'x-forwarded-host', 'example.com', 'host', 'example.com']);
  });

  it('rewrites Host to what the client sent the proxy', () => {
    const result = readProxyHeaders(
      ['host', 'backend:8080', 'x-forwarded-host', 'example.com'],
      trust(['x-forwarded-host']),
      true,
      'https',
    );
    expect(result).toMatchObject({ kind: 'applied', headers: ['host', 'example.com', 'x-forwarded-host', 'example.com'] });
  });

  it('uses the configured url_scheme for the default port when no proto is forwarded', () => {
    const result = applied({ 'X-Forwarded-Host': 'example.com', 'X-Forwarded-Port': '443' }, XF, 1, 'https');
    expect(result.client).toMatchObject({ authority: 'example.com', serverPort: 443, scheme: undefined });
  });

  it('collects Forwarded parameters it does not know, and ignores them', () => {
    const result = applied({ Forwarded: 'for=192.0.2.1;secret=x;by=proxy' }, ['forwarded']);
    expect(result.unknownParameters).toEqual(['secret']);
    expect(result.client).toMatchObject({ address: '192.0.2.1' });
  });
});

describe('malformed fields from a trusted proxy are refused', () => {
  const cases: [string, Record<string, string>, ProxyHeader[], string][] = [
    [
      'a proto that is not http or https',
      { 'X-Forwarded-Proto': 'http://p02n3e.com?url=http' },
      ['x-forwarded-proto'],
      'WS_ERR_X_FORWARDED_PROTO',
    ],
    ['two protos', { 'X-Forwarded-Proto': 'https, http' }, ['x-forwarded-proto'], 'WS_ERR_X_FORWARDED_PROTO'],
    ['two ports', { 'X-Forwarded-Port': '443, 80' }, ['x-forwarded-port'], 'WS_ERR_X_FORWARDED_PORT'],
    ['a port that is not a number', { 'X-Forwarded-Port': 'https' }, ['x-forwarded-port'], 'WS_ERR_X_FORWARDED_PORT'],
    ['a port above 65535', { 'X-Forwarded-Port': '65536' }, ['x-forwarded-port'], 'WS_ERR_X_FORWARDED_PORT'],
    ['a host with a path', { 'X-Forwarded-Host': 'example.com/evil' }, ['x-forwarded-host'], 'WS_ERR_X_FORWARDED_HOST'],
    ['a host port that is not a number', { 'X-Forwarded-Host': 'example.com:abc' }, ['x-forwarded-host'], 'WS_ERR_X_FORWARDED_HOST'],
    ['a client hop that is no address', { 'X-Forwarded-For': '<script>' }, ['x-forwarded-for'], 'WS_ERR_X_FORWARDED_FOR'],
    ['an empty client hop', { 'X-Forwarded-For': '1.2.3.4, ' }, ['x-forwarded-for'], 'WS_ERR_X_FORWARDED_FOR'],
    ['a quote open on one side', { 'X-Forwarded-For': '"1.2.3.4' }, ['x-forwarded-for'], 'WS_ERR_X_FORWARDED_FOR'],
    ['a host quoted on one side', { 'X-Forwarded-Host': '"example.com' }, ['x-forwarded-host'], 'WS_ERR_X_FORWARDED_HOST'],
    ['a proto quoted on one side', { 'X-Forwarded-Proto': 'https"' }, ['x-forwarded-proto'], 'WS_ERR_X_FORWARDED_PROTO'],
    ['a port quoted on one side', { 'X-Forwarded-Port': '"443' }, ['x-forwarded-port'], 'WS_ERR_X_FORWARDED_PORT'],
    ['a Forwarded pair without "="', { Forwarded: 'for' }, ['forwarded'], 'WS_ERR_FORWARDED'],
    ['whitespace before "=" in Forwarded', { Forwarded: 'for =192.0.2.1' }, ['forwarded'], 'WS_ERR_FORWARDED'],
    ['whitespace after "=" in Forwarded', { Forwarded: 'for= 192.0.2.1' }, ['forwarded'], 'WS_ERR_FORWARDED'],
    ['an unquoted IPv6 for (RFC 7239 §6)', { Forwarded: 'for=2001:db8::1' }, ['forwarded'], 'WS_ERR_FORWARDED'],
    ['bad quoting in Forwarded', { Forwarded: 'for="192.0.2.1' }, ['forwarded'], 'WS_ERR_FORWARDED'],
    ['a Forwarded proto that is not http or https', { Forwarded: 'proto=gopher' }, ['forwarded'], 'WS_ERR_FORWARDED'],
  ];
  it.each(cases)('%s', (_, fields, headers, code) => {
    const result = readProxyHeaders(flat(fields), trust(headers), true, 'http');
    expect(result).toMatchObject({ kind: 'malformed', error: { status: 400, code } });
  });

  it('names the field, as Waitress does', () => {
    const result = readProxyHeaders(flat({ 'X-Forwarded-Proto': 'gopher' }), trust(['x-forwarded-proto']), true, 'http');
    expect(result).toMatchObject({ field: 'X-Forwarded-Proto', value: 'gopher' });
    if (result.kind === 'malformed') expect(result.error.reason).toMatch(/^Header "X-Forwarded-Proto" malformed/);
  });

  it('does not look at the fields of an untrusted peer', () => {
    expect(readProxyHeaders(flat({ 'X-Forwarded-Proto': 'gopher' }), undefined, true, 'http')).toMatchObject({
      kind: 'applied',
      client: undefined,
    });
  });
});

describe('untrusted proxy fields', () => {
  const all = {
    'X-Forwarded-For': '198.51.100.2',
    'X-Forwarded-By': 'Waitress',
    'X-Forwarded-Proto': 'https',
    'X-Forwarded-Host': 'example.org',
    Forwarded: 'for=1.2.3.4',
  };

  it('are all removed when the peer is not trusted', () => {
    const result = readProxyHeaders(['accept', '*/*', ...flat(all)], undefined, true, 'http');
    expect(result).toMatchObject({ kind: 'applied', headers: ['accept', '*/*'], client: undefined });
    if (result.kind === 'applied')
      expect(result.removed.sort()).toEqual(['Forwarded', 'X-Forwarded-By', 'X-Forwarded-For', 'X-Forwarded-Host', 'X-Forwarded-Proto']);
  });

  it('are the ones not named in trusted_proxy_headers when the peer is trusted', () => {
    const result = readProxyHeaders(flat(all), trust(['x-forwarded-by']), true, 'http');
    expect(result).toMatchObject({ kind: 'applied', headers: ['x-forwarded-by', 'Waitress'] });
  });

  it('stay when clear_untrusted_proxy_headers is off', () => {
    const result = readProxyHeaders(flat(all), trust(['x-forwarded-by']), false, 'http');
    expect(result).toMatchObject({ kind: 'applied', headers: flat(all), removed: [] });
  });

  it('a request without any costs nothing: the same array comes back', () => {
    expect(readProxyHeaders(['host', 'a', 'x-forwarded', 'b', 'forwarded-for', 'c'], undefined, true, 'http')).toEqual({ kind: 'none' });
  });

  // Whatever the fields, an untrusted peer's request reaches the app with every other field, in order, and no proxy field.
  const name = fc.oneof(fc.constantFrom(...PROXY_HEADERS), fc.constantFrom('host', 'accept', 'x-forwarded', 'forwarded-x', 'x-real-ip'));
  fcTest.prop([fc.array(fc.tuple(name, fc.string({ maxLength: 12 })), { maxLength: 12 })])(
    'untrusted: proxy fields out, others kept in order',
    (fields) => {
      const headers = fields.flat();
      const result = readProxyHeaders(headers, undefined, true, 'http');
      const others = fields.filter(([n]) => !(PROXY_HEADERS as readonly string[]).includes(n)).flat();
      expect(result.kind === 'none' ? headers : result.kind === 'applied' ? result.headers : undefined).toEqual(others);
    },
  );
});
