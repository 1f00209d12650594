// test/http/head.property.test.ts: fast-check properties of parseHead().
//  (a) a generated valid head parses to exactly the head a reference model predicts, every strict
//      prefix of it is need-more (no early false refusal), and where it sits in the buffer or what
//      follows it changes nothing;
//  (c) arbitrary bytes never make parseHead throw, and whatever it returns is well-formed.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { parseHead } from '../../src/http/head.js';
import type { BodyFraming, HeadLimits, HeadResult, RequestHead } from '../../src/http/types.js';
import { bytes } from './helpers.js';

const LIMITS: HeadLimits = { maxHeaderBytes: 16384, maxBodyBytes: 1_000_000 };

const charOf = (...ranges: [number, number][]) =>
  fc.oneof(...ranges.map(([min, max]) => fc.integer({ min, max }))).map((c) => String.fromCharCode(c));

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const tchar = fc.constantFrom(...TCHARS.split(''));
const upperTchar = fc.constantFrom(...TCHARS.replace(/[a-z]/g, '').split(''));
const vchar = charOf([0x21, 0x7e], [0x80, 0xff]); // field-vchar incl. obs-text
const ows = fc.constantFrom('', ' ', '\t', '  ', ' \t ');

/** field-content: empty, or field-vchar [ *( SP / HTAB / field-vchar ) field-vchar ] */
const fieldContent = fc.oneof(
  fc.constant(''),
  vchar,
  fc.tuple(vchar, fc.string({ unit: fc.oneof(vchar, fc.constantFrom(' ', '\t')), maxLength: 20 }), vchar).map(([a, m, b]) => a + m + b),
);

const method = fc.oneof(
  fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
  // RFC 9110 §15.6.2: these three get 501 (and CONNECT takes another target form).
  fc.string({ unit: upperTchar, minLength: 1, maxLength: 12 }).filter((m) => !['CONNECT', 'TRACE', 'TRACK'].includes(m)),
);
const pathChars = fc.string({ unit: charOf([0x21, 0x22], [0x24, 0x7e]), maxLength: 40 }); // VCHAR but "#" (a fragment)
const target = fc.oneof(
  pathChars.map((p) => '/' + p),
  fc.tuple(fc.constantFrom('http', 'https', 'x+y.z-1'), pathChars).map(([s, p]) => `${s}://${p}`),
);
const regName = fc.string({ unit: fc.constantFrom(..."abcXYZ019-._~!$&'()*+,;=".split('')), maxLength: 15 });
const hostValue = fc.oneof(
  fc.tuple(regName, fc.option(fc.integer({ min: 0, max: 65535 }))).map(([h, p]) => (p === null ? h : `${h}:${p}`)),
  fc.constantFrom('[::1]', '[::1]:8080', '127.0.0.1:80', ''),
);

interface Field {
  name: string; // as sent, always starts with "X-" so it never collides with a framing field
  parts: string[]; // value, then one entry per obs-fold continuation
  pad: [string, string]; // OWS sent around each part
}
const field: fc.Arbitrary<Field> = fc.record({
  name: fc.string({ unit: tchar, minLength: 1, maxLength: 12 }).map((n) => 'X-' + n),
  parts: fc.array(fieldContent, { minLength: 1, maxLength: 3 }),
  pad: fc.tuple(ows, ows),
});

const body = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('cl' as const), length: fc.integer({ min: 0, max: LIMITS.maxBodyBytes }), zeros: fc.nat(3) }),
  fc.record({ kind: fc.constant('chunked' as const), spelling: fc.constantFrom('chunked', 'Chunked', ' , chunked', 'chunked,') }),
);

const request = fc
  .record({
    leading: fc.nat(2),
    method,
    target,
    version: fc.constantFrom('1.0', '1.1') as fc.Arbitrary<'1.0' | '1.1'>,
    host: fc.option(hostValue, { nil: undefined }),
    fields: fc.array(field, { maxLength: 8 }),
    body,
    connection: fc.option(fc.constantFrom('close', 'keep-alive', 'Keep-Alive, foo', 'foo'), { nil: undefined }),
    expect: fc.boolean(),
  })
  // HTTP/1.1 needs a Host; chunked needs HTTP/1.1 (RFC 9112 §3.2, §6.1).
  .map((r) => (r.version === '1.1' && r.host === undefined ? { ...r, host: 'example.com' } : r))
  .filter((r) => !(r.body.kind === 'chunked' && r.version === '1.0'));

type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** The wire bytes (as a latin1 string) and the RequestHead a correct parser must produce. */
function model(r: Req): { wire: string; head: RequestHead } {
  let wire = '\r\n'.repeat(r.leading) + `${r.method} ${r.target} HTTP/${r.version}\r\n`;
  const headers: string[] = [];
  const add = (name: string, value: string) => {
    wire += `${name}: ${value}\r\n`;
    headers.push(name.toLowerCase(), value);
  };
  if (r.host !== undefined) add('Host', r.host);
  for (const f of r.fields) {
    const [l, t] = f.pad;
    wire += `${f.name}:${l}${f.parts[0]}${t}\r\n`;
    for (const part of f.parts.slice(1)) wire += ` ${l}${part}${t}\r\n`; // obs-fold
    // RFC 9112 §5.2: each fold becomes one SP; empty pieces leave no trace.
    const value = f.parts.filter((p) => p !== '').join(' ');
    if (!f.name.includes('_')) headers.push(f.name.toLowerCase(), value);
  }
  let framing: BodyFraming = { kind: 'none' };
  if (r.body.kind === 'cl') {
    add('Content-Length', '0'.repeat(r.body.zeros) + String(r.body.length));
    if (r.body.length > 0) framing = { kind: 'length', length: r.body.length };
  } else if (r.body.kind === 'chunked') {
    add('Transfer-Encoding', r.body.spelling.trim());
    framing = { kind: 'chunked' };
  }
  if (r.connection !== undefined) add('Connection', r.connection);
  if (r.expect) add('Expect', '100-continue');
  wire += '\r\n';
  const tokens = (r.connection ?? '')
    .toLowerCase()
    .split(',')
    .map((s) => s.trim());
  const keepAlive = !tokens.includes('close') && (r.version === '1.1' || tokens.includes('keep-alive'));
  return {
    wire,
    head: {
      method: r.method,
      target: r.target,
      targetForm: r.target.startsWith('/') ? 'origin' : 'absolute',
      version: r.version,
      headers,
      host: r.host,
      framing,
      keepAlive,
      expectsContinue: r.expect && r.version === '1.1' && framing.kind !== 'none',
    },
  };
}

describe('RFC 9112 §2.2 incremental parsing of valid heads (property a)', () => {
  test.prop([request, fc.uint8Array({ maxLength: 20 })], { numRuns: 300 })(
    'the whole head parses to the model; every strict prefix is need-more; trailing bytes are not consumed',
    (r, trailing) => {
      const { wire, head } = model(r);
      const buf = Buffer.concat([bytes(wire), trailing]);
      expect(parseHead(buf, 0, LIMITS)).toEqual({ kind: 'head', head, consumed: wire.length });
      for (let n = 0; n < wire.length; n++) {
        const res = parseHead(buf.subarray(0, n), 0, LIMITS);
        if (res.kind !== 'need-more') expect.fail(`prefix of ${n} bytes gave ${JSON.stringify(res)}`);
      }
    },
  );

  test.prop([request, fc.uint8Array({ maxLength: 30 })], { numRuns: 200 })('the same head is found at any start offset', (r, before) => {
    const { wire, head } = model(r);
    const buf = Buffer.concat([before, bytes(wire)]);
    expect(parseHead(buf, before.length, LIMITS)).toEqual({ kind: 'head', head, consumed: wire.length });
  });

  test.prop([request, fc.uniqueArray(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 })], { numRuns: 300 })(
    'resuming with scannedTo after each need-more gives the same head as parsing it whole',
    (r, cuts) => {
      const { wire, head } = model(r);
      const buf = bytes(wire);
      const ends = [...new Set(cuts.map((c) => Math.floor(c * wire.length)))].filter((e) => e < wire.length).sort((a, b) => a - b);
      let scannedTo = 0;
      for (const end of ends) {
        const res = parseHead(buf.subarray(0, end), 0, LIMITS, scannedTo);
        if (res.kind !== 'need-more') expect.fail(`prefix of ${end} bytes gave ${JSON.stringify(res)}`);
        scannedTo = end;
      }
      expect(parseHead(buf, 0, LIMITS, scannedTo)).toEqual({ kind: 'head', head, consumed: wire.length });
    },
  );

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.nat(200)], { numRuns: 500 })(
    'a resumed scan refuses bare CR/LF exactly when a whole scan does',
    (input, split) => {
      const buf = Buffer.from(input);
      const cut = Math.min(split, buf.length);
      const first = parseHead(buf.subarray(0, cut), 0, LIMITS);
      if (first.kind !== 'need-more') return;
      expect(parseHead(buf, 0, LIMITS, cut)).toEqual(parseHead(buf, 0, LIMITS));
    },
  );

  test.prop([request], { numRuns: 100 })('maxHeaderBytes is inclusive: equal passes, one less is 431', (r) => {
    const { wire } = model(r);
    const buf = bytes(wire);
    expect(parseHead(buf, 0, { ...LIMITS, maxHeaderBytes: wire.length }).kind).toBe('head');
    const res = parseHead(buf, 0, { ...LIMITS, maxHeaderBytes: wire.length - 1 });
    expect(res.kind === 'error' && res.error.status).toBe(431);
  });
});

// Fragments that make random inputs look enough like HTTP to reach deep branches.
const fragment = fc.oneof(
  fc.constantFrom(
    'GET',
    'POST',
    'CONNECT',
    'OPTIONS',
    'get',
    ' ',
    '  ',
    '/',
    '*',
    'http://',
    'a:1',
    'HTTP/1.1',
    'HTTP/1.0',
    'HTTP/2.0',
    '\r\n',
    '\r\n\r\n',
    '\r',
    '\n',
    '\t',
    ':',
    'Host',
    'Host: a',
    'Content-Length',
    'Transfer-Encoding',
    'chunked',
    'gzip',
    ',',
    'Connection',
    'close',
    'keep-alive',
    'Expect',
    '100-continue',
    '5',
    '0x',
    '\x00',
    '\x7f',
    '\xff',
    '_',
    '[::1]',
  ),
  fc.string({ maxLength: 4 }).map((s) => s.replace(/[^\x00-\xff]/g, '?')),
);
const httpish = fc.array(fragment, { maxLength: 40 }).map((a) => bytes(a.join('')));

function checkWellFormed(buf: Uint8Array, start: number, limits: HeadLimits, res: HeadResult): void {
  switch (res.kind) {
    case 'need-more':
      return;
    case 'head': {
      expect(res.consumed).toBeGreaterThan(0);
      expect(res.consumed).toBeLessThanOrEqual(Math.min(buf.length - start, limits.maxHeaderBytes));
      const end = start + res.consumed;
      expect([...buf.subarray(end - 4, end)]).toEqual([13, 10, 13, 10]);
      return;
    }
    case 'error':
      expect([400, 413, 431, 501, 505]).toContain(res.error.status);
      expect(res.error.code).toMatch(/^WS_ERR_[A-Z0-9_]+$/);
      expect(res.error.reason).toMatch(/\(RFC \d+ §[\d.]+(, erratum \d+)?\)$/);
      return;
    default:
      expect.fail(`unexpected result ${JSON.stringify(res)}`);
  }
}

describe('RFC 9112 §2.2 robustness: arbitrary bytes (property c)', () => {
  test.prop([fc.uint8Array({ maxLength: 400 }), fc.nat(10), fc.integer({ min: 0, max: 500 })], { numRuns: 1000 })(
    'random bytes: never throws, result is well-formed',
    (buf, start, maxHeaderBytes) => {
      const limits = { maxHeaderBytes, maxBodyBytes: 1000 };
      const s = Math.min(start, buf.length);
      checkWellFormed(buf, s, limits, parseHead(buf, s, limits));
    },
  );

  test.prop([httpish], { numRuns: 2000 })(
    'HTTP-looking bytes: never throws, well-formed, and an accepted head has no refused prefix',
    (buf) => {
      const res = parseHead(buf, 0, LIMITS);
      checkWellFormed(buf, 0, LIMITS, res);
      if (res.kind === 'head') {
        for (let n = 0; n < res.consumed; n++) {
          expect(parseHead(buf.subarray(0, n), 0, LIMITS).kind).toBe('need-more');
        }
      }
    },
  );
});
