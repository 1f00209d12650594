// test/http/chunked.test.ts: ChunkedDecoder, unit cases per RFC 9112 §7.1.x (Waitress's inputs
// measured on Waitress 2.1.2 among them) and the split/robustness properties (b) and (c).
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { ChunkedDecoder, MAX_CHUNK_LINE_BYTES } from '../../src/http/chunked.js';
import { ERR } from '../../src/http/errors.js';
import type { ChunkedResult } from '../../src/http/types.js';
import { bytes, concat, expectError } from './helpers.js';

const MAX_BODY = 1_000_000;
const MAX_TRAILER = 4096;

interface Outcome {
  result: ChunkedResult;
  data: string; // decoded bytes as latin1
  views: Uint8Array[];
}

/** Feed the whole input in one call. */
function decodeAll(input: string | Uint8Array, maxBody = MAX_BODY, maxTrailer = MAX_TRAILER): Outcome {
  const buf = typeof input === 'string' ? bytes(input) : input;
  const d = new ChunkedDecoder(maxBody, maxTrailer);
  const views: Uint8Array[] = [];
  const result = d.decode(buf, 0, buf.length, views);
  return { result, data: Buffer.from(concat(views)).toString('latin1'), views };
}

/**
 * Feed `buf` in pieces cut at `cuts`, each piece a fresh copy (so the decoder cannot peek past a
 * piece). Stops at the first done/error. consumed is the total over all pieces.
 */
function decodeSplit(buf: Uint8Array, cuts: readonly number[], maxBody = MAX_BODY, maxTrailer = MAX_TRAILER) {
  const d = new ChunkedDecoder(maxBody, maxTrailer);
  const views: Uint8Array[] = [];
  const points = [...new Set([0, ...cuts.filter((c) => c > 0 && c < buf.length), buf.length])].sort((a, b) => a - b);
  let consumed = 0;
  let last: ChunkedResult = { kind: 'need-more', consumed: 0 };
  for (let k = 0; k + 1 < points.length; k++) {
    const piece = buf.slice(points[k], points[k + 1]);
    last = d.decode(piece, 0, piece.length, views);
    if (last.kind === 'error') break;
    consumed += last.consumed;
    if (last.kind === 'done') break;
    expect(last.consumed).toBe(piece.length); // need-more always uses everything
  }
  return { last, consumed, data: concat(views), views, bodyBytes: d.bodyBytes };
}

describe('RFC 9112 §7.1 chunked transfer coding', () => {
  test('chunks are decoded and consumed stops after the final CRLF', () => {
    const o = decodeAll('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET / HTTP/1.1\r\n');
    expect(o.result).toEqual({ kind: 'done', consumed: 26 });
    expect(o.data).toBe('hello world');
  });
  test('hex digits in either case, leading zeros allowed', () => {
    expect(decodeAll(`a\r\n${'x'.repeat(10)}\r\nA\r\n${'y'.repeat(10)}\r\n000F\r\n${'z'.repeat(15)}\r\n00\r\n\r\n`).data).toBe(
      'x'.repeat(10) + 'y'.repeat(10) + 'z'.repeat(15),
    );
  });
  test('data is handed out as views of the input, not copies', () => {
    const buf = bytes('5\r\nhello\r\n0\r\n\r\n');
    const views: Uint8Array[] = [];
    new ChunkedDecoder(MAX_BODY, MAX_TRAILER).decode(buf, 0, buf.length, views);
    expect(views).toHaveLength(1);
    expect(views[0]!.buffer).toBe(buf.buffer);
    expect(views[0]!.byteOffset).toBe(buf.byteOffset + 3);
  });
  test('start/end bound the bytes read', () => {
    const buf = bytes('XX5\r\nhello\r\n0\r\n\r\nYY');
    const views: Uint8Array[] = [];
    const d = new ChunkedDecoder(MAX_BODY, MAX_TRAILER);
    expect(d.decode(buf, 2, 9, views)).toEqual({ kind: 'need-more', consumed: 7 });
    expect(d.decode(buf, 9, buf.length, views)).toEqual({ kind: 'done', consumed: 8 });
    expect(Buffer.from(concat(views)).toString()).toBe('hello');
  });
  test('bodyBytes counts decoded bytes as they are handed out', () => {
    const d = new ChunkedDecoder(MAX_BODY, MAX_TRAILER);
    const buf = bytes('5\r\nhel');
    d.decode(buf, 0, buf.length, []);
    expect(d.bodyBytes).toBe(3);
    expect(d.done).toBe(false);
    const rest = bytes('lo\r\n0\r\n\r\n');
    d.decode(rest, 0, rest.length, []);
    expect(d.bodyBytes).toBe(5);
    expect(d.done).toBe(true);
  });
  test('after done, further input is not consumed; after an error, the error sticks', () => {
    const d = new ChunkedDecoder(MAX_BODY, MAX_TRAILER);
    const buf = bytes('0\r\n\r\n');
    expect(d.decode(buf, 0, buf.length, []).kind).toBe('done');
    expect(d.decode(buf, 0, buf.length, [])).toEqual({ kind: 'done', consumed: 0 });
    const e = new ChunkedDecoder(MAX_BODY, MAX_TRAILER);
    const bad = bytes('x');
    expectError(e.decode(bad, 0, 1, []), ERR.chunkSizeInvalid);
    expectError(e.decode(buf, 0, buf.length, []), ERR.chunkSizeInvalid);
  });
  test.each([
    ['0x5', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['+5', '+5\r\nhello\r\n0\r\n\r\n'],
    ['-5', '-5\r\nhello\r\n0\r\n\r\n'],
    [' 5 (leading space)', ' 5\r\nhello\r\n0\r\n\r\n'],
    ['empty line where a size is expected (Waitress skipped it)', '\r\n5\r\nhello\r\n0\r\n\r\n'],
    ['g', 'g\r\n'],
    ['5x', '5x\r\nhello\r\n0\r\n\r\n'],
  ])('Waitress: chunk size %s is 400', (_, input) => {
    expectError(decodeAll(input).result, ERR.chunkSizeInvalid);
  });
  test('a size beyond Number.MAX_SAFE_INTEGER or over 15 hex digits is 400', () => {
    expectError(decodeAll('20000000000000\r\n', Number.MAX_SAFE_INTEGER).result, ERR.chunkSizeOverflow);
    expectError(decodeAll('0000000000000001\r\n').result, ERR.chunkSizeOverflow);
    expectError(decodeAll('ffffffffffffffffffff\r\n').result, ERR.chunkSizeOverflow);
  });
  test('Waitress: data not followed by CRLF is "Chunk not properly terminated"', () => {
    expectError(decodeAll('5\r\nhelloX\r\n0\r\n\r\n').result, ERR.chunkNotTerminated);
    expectError(decodeAll('5\r\nhello\rX0\r\n\r\n').result, ERR.chunkNotTerminated);
    expectError(decodeAll('5\r\nhello\n0\r\n\r\n').result, ERR.chunkNotTerminated);
    expectError(decodeAll('3\r\nhello\r\n0\r\n\r\n').result, ERR.chunkNotTerminated);
  });
  test('Waitress: LF-only framing is 400 at once (Waitress waited for CRLF forever)', () => {
    expectError(decodeAll('5\nhello\r\n0\r\n\r\n').result, ERR.chunkBareLineFeed);
    expectError(decodeAll('5;a=b\nhello').result, ERR.chunkBareLineFeed);
    expectError(decodeAll('0\r\n\n').result, ERR.chunkBareLineFeed);
    expectError(decodeAll('0\r\nX: y\n\r\n').result, ERR.chunkBareLineFeed);
  });
  test('a bare CR in a framing line is 400', () => {
    expectError(decodeAll('5\rhello').result, ERR.chunkBareCarriageReturn);
    expectError(decodeAll('0\r\n\rX').result, ERR.chunkBareCarriageReturn);
    expectError(decodeAll('0\r\nX: y\rZ').result, ERR.chunkBareCarriageReturn);
  });
});

describe('RFC 9110 §15.5.14 body size limit (413)', () => {
  test('the decoded total may equal maxBodyBytes', () => {
    expect(decodeAll('5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n', 10).result.kind).toBe('done');
  });
  test('one byte over is 413, refused at the size line before its data arrives', () => {
    const o = decodeAll('5\r\nhello\r\n6\r\n', 10);
    expect(o.result.kind === 'error' && [o.result.error.status, o.result.error.code]).toEqual([413, 'WS_ERR_BODY_TOO_LARGE']);
    expect(o.result.kind === 'error' && o.result.error.reason).toContain('10');
  });
  test('the limit counts data only, not framing (Waitress counted wire bytes)', () => {
    expect(decodeAll(`5a;ext=1\r\n${'x'.repeat(90)}\r\n0\r\n\r\n`, 90).result.kind).toBe('done');
  });
});

describe('RFC 9112 §7.1.1 chunk extensions', () => {
  test.each([
    '5;a=b;c="d e";f',
    '5;a',
    '5 ;a',
    '5\t; a = b',
    '5;a="q\\"uoted\\\\"',
    '5;a="\xff obs-text"',
    '5;a=b ;c',
    '5;a="b" ;c=d',
    "5;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
  ])('%j is valid and discarded', (line) => {
    const o = decodeAll(`${line}\r\nhello\r\n0;last=1\r\n\r\n`);
    expect(o.result.kind).toBe('done');
    expect(o.data).toBe('hello');
  });
  test.each([
    '5;=x',
    '5;',
    '4;invalid=',
    '5;a=b c',
    '5 ',
    '5;a ',
    '5;a=b ',
    '5;a="unterminated',
    '5;a="ctl\x01"',
    '5;a=(b)',
    '5;a b',
    '5;a=b;',
    '5;"q"',
    '5;a="x"y',
    '5;a="\\\x01"',
    '5;a="x\\\x7f"',
  ])('Waitress: %j is 400', (line) => {
    expectError(decodeAll(`${line}\r\nhello\r\n0\r\n\r\n`).result, ERR.chunkExtensionInvalid);
  });
  test('CR or LF inside an extension is 400', () => {
    expectError(decodeAll('5;a="x\ry"\r\nhello\r\n0\r\n\r\n').result, ERR.chunkExtensionInvalid);
    expectError(decodeAll('5;a\ny\r\nhello\r\n0\r\n\r\n').result, ERR.chunkBareLineFeed);
    // Inside a quoted-string a LF is an octet that qdtext and quoted-pair do not allow.
    expectError(decodeAll('5;a="x\ny"\r\nhello\r\n0\r\n\r\n').result, ERR.chunkExtensionInvalid);
    expectError(decodeAll('5;a="x\\\ny"\r\nhello\r\n0\r\n\r\n').result, ERR.chunkExtensionInvalid);
  });
  test(`a size line of ${MAX_CHUNK_LINE_BYTES} bytes is fine, one more is 400`, () => {
    const ext = (n: number) => `5;a=${'b'.repeat(n - 4)}`;
    expect(ext(MAX_CHUNK_LINE_BYTES)).toHaveLength(MAX_CHUNK_LINE_BYTES);
    expect(decodeAll(`${ext(MAX_CHUNK_LINE_BYTES)}\r\nhello\r\n0\r\n\r\n`).result.kind).toBe('done');
    expectError(decodeAll(`${ext(MAX_CHUNK_LINE_BYTES + 1)}\r\nhello\r\n0\r\n\r\n`).result, ERR.chunkLineTooLong);
  });
});

describe('RFC 9112 §7.1.2 trailer section', () => {
  test('trailer fields are validated and discarded; consumed covers them', () => {
    const input = '5\r\nhello\r\n0\r\nX-Sum: abc\r\nX-Other:\t\xe9 v \r\n folded\r\n\r\nNEXT';
    const o = decodeAll(input);
    expect(o.result).toEqual({ kind: 'done', consumed: input.length - 4 });
    expect(o.data).toBe('hello');
  });
  test.each([
    ['no colon', 'X-Sum\r\n\r\n', ERR.fieldNoColon],
    ['empty name', ': x\r\n\r\n', ERR.fieldNameEmpty],
    ['whitespace before colon', 'X-Sum : x\r\n\r\n', ERR.whitespaceBeforeColon],
    ['non-token name', 'X(S): x\r\n\r\n', ERR.fieldNameInvalid],
    ['space inside name', 'X S: x\r\n\r\n', ERR.fieldNameInvalid],
    ['NUL in value', 'X: a\x00b\r\n\r\n', ERR.fieldValueInvalid],
    ['DEL in value', 'X: a\x7fb\r\n\r\n', ERR.fieldValueInvalid],
    ['fold with nothing to continue', ' X: y\r\n\r\n', ERR.whitespaceBeforeFirstField],
  ])('%s is 400', (_, trailer, err) => {
    expectError(decodeAll(`0\r\n${trailer}`).result, err);
  });
  test('a trailer section over maxTrailerBytes is 431; equal is fine', () => {
    const t = 'X-A: 12345\r\n'; // 12 bytes
    expect(decodeAll(`0\r\n${t}\r\n`, MAX_BODY, 12).result.kind).toBe('done');
    const o = decodeAll(`0\r\n${t}\r\n`, MAX_BODY, 11);
    expect(o.result.kind === 'error' && [o.result.error.status, o.result.error.code]).toEqual([431, 'WS_ERR_TRAILER_TOO_LARGE']);
    expect(decodeAll('0\r\n\r\n', MAX_BODY, 0).result.kind).toBe('done');
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const token = fc.string({ unit: fc.constantFrom(...TCHARS.split('')), minLength: 1, maxLength: 6 });
const bws = fc.constantFrom('', ' ', '\t ');
const qdtext = fc
  .oneof(
    fc.integer({ min: 0x23, max: 0x5b }),
    fc.integer({ min: 0x5d, max: 0x7e }),
    fc.integer({ min: 0x80, max: 0xff }),
    fc.constantFrom(0x20, 0x09, 0x21),
  )
  .map((c) => String.fromCharCode(c));
const quoted = fc.array(fc.oneof(qdtext, fc.constantFrom('\\"', '\\\\', '\\a')), { maxLength: 6 }).map((a) => `"${a.join('')}"`);
const extension = fc
  .tuple(bws, bws, token, fc.option(fc.tuple(bws, bws, fc.oneof(token, quoted))))
  .map(([b1, b2, name, v]) => `${b1};${b2}${name}${v === null ? '' : `${v[0]}=${v[1]}${v[2]}`}`);
const chunk = fc.record({
  data: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  zeros: fc.nat(2),
  upper: fc.boolean(),
  exts: fc.array(extension, { maxLength: 2 }),
});
const trailerField = fc
  .tuple(token, fc.string({ unit: fc.constantFrom('a', ' ', '\t', '\xe9', '~'), maxLength: 8 }), fc.boolean())
  .map(([n, v, fold]) => `${n}:${v}\r\n${fold ? ' more\r\n' : ''}`);
const chunkedBody = fc.record({
  chunks: fc.array(chunk, { maxLength: 6 }),
  lastExts: fc.array(extension, { maxLength: 2 }),
  trailers: fc.array(trailerField, { maxLength: 3 }),
});

function encode(b: typeof chunkedBody extends fc.Arbitrary<infer T> ? T : never): { wire: Uint8Array; data: Uint8Array } {
  const parts: Uint8Array[] = [];
  for (const c of b.chunks) {
    let size = c.data.length.toString(16);
    size = '0'.repeat(c.zeros) + (c.upper ? size.toUpperCase() : size);
    parts.push(bytes(`${size}${c.exts.join('')}\r\n`), c.data, bytes('\r\n'));
  }
  parts.push(bytes(`0${b.lastExts.join('')}\r\n${b.trailers.join('')}\r\n`));
  return { wire: concat(parts), data: concat(b.chunks.map((c) => c.data)) };
}

describe('RFC 9112 §7.1 chunked decoding split at any byte (property b)', () => {
  test.prop([chunkedBody, fc.uint8Array({ maxLength: 30 }), fc.array(fc.nat(3000), { maxLength: 40 })], { numRuns: 300 })(
    'whole and split feeding give the same bytes and the same consumed total, trailing bytes untouched',
    (b, next, cuts) => {
      const { wire, data } = encode(b);
      const input = concat([wire, next]);
      const whole = decodeAll(input);
      expect(whole.result).toEqual({ kind: 'done', consumed: wire.length });
      expect([...concat(whole.views)]).toEqual([...data]);
      const split = decodeSplit(input, cuts);
      expect(split.views.every((v) => v.length > 0)).toBe(true); // no empty views handed out
      expect(split.last.kind).toBe('done');
      expect(split.consumed).toBe(wire.length);
      expect([...split.data]).toEqual([...data]);
      expect(split.bodyBytes).toBe(data.length);
    },
  );

  test.prop([chunkedBody], { numRuns: 100 })('one byte at a time', (b) => {
    const { wire, data } = encode(b);
    const split = decodeSplit(
      wire,
      Array.from({ length: wire.length }, (_, i) => i),
    );
    expect(split.last.kind).toBe('done');
    expect(split.consumed).toBe(wire.length);
    expect([...split.data]).toEqual([...data]);
  });
});

// Fragments that make random input look like chunked framing, valid or not.
const chunkish = fc
  .array(
    fc.oneof(
      fc.constantFrom('0', '5', 'a', 'F', 'x', '\r\n', '\r', '\n', ';', '=', '"', '\\', ' ', '\t', ':', 'X-A', 'hello', '\x00', '\xff'),
      fc.uint8Array({ maxLength: 3 }).map((u) => Buffer.from(u).toString('latin1')),
    ),
    { maxLength: 40 },
  )
  .map((a) => bytes(a.join('')));

describe('RFC 9112 §7.1 robustness (property c)', () => {
  test.prop([fc.uint8Array({ maxLength: 400 }), fc.nat(50), fc.nat(50)], { numRuns: 1000 })(
    'arbitrary bytes never throw and give a well-formed result',
    (buf, maxBody, maxTrailer) => {
      const r = new ChunkedDecoder(maxBody, maxTrailer).decode(buf, 0, buf.length, []);
      if (r.kind === 'error') {
        expect([400, 413, 431]).toContain(r.error.status);
        expect(r.error.code).toMatch(/^WS_ERR_/);
      } else {
        expect(r.consumed).toBeGreaterThanOrEqual(0);
        expect(r.consumed).toBeLessThanOrEqual(buf.length);
        if (r.kind === 'need-more') expect(r.consumed).toBe(buf.length);
      }
    },
  );

  test.prop([chunkish, fc.array(fc.nat(200), { maxLength: 10 }), fc.nat(20), fc.nat(20)], { numRuns: 2000 })(
    'any input, valid or not, gives the same outcome however it is split',
    (buf, cuts, maxBody, maxTrailer) => {
      const whole = new ChunkedDecoder(maxBody, maxTrailer).decode(buf, 0, buf.length, []);
      const split = decodeSplit(buf, cuts, maxBody, maxTrailer);
      if (whole.kind === 'error') {
        expect(split.last.kind === 'error' && split.last.error.code).toBe(whole.error.code);
      } else {
        expect(split.last.kind).toBe(whole.kind);
        expect(split.consumed).toBe(whole.consumed);
      }
    },
  );
});
