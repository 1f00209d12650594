// test/http/grammar.test.ts: the character tables against independent regex oracles, and the
// string helpers.
import { describe, expect, test } from 'vitest';
import {
  FIELD_VALUE_CHAR,
  HEX_VALUE,
  IP_LITERAL_CHAR,
  QDTEXT,
  QUOTED_PAIR_CHAR,
  REG_NAME_CHAR,
  SCHEME_CHAR,
  TARGET_CHAR,
  TCHAR,
  isFieldValue,
  isHexDigit,
  isToken,
  isValidHost,
} from '../../src/http/grammar.js';

/** Members of a table, as a latin1 string, for a readable diff. */
const members = (t: Uint8Array) =>
  [...Array(256).keys()]
    .filter((c) => t[c] === 1)
    .map((c) => String.fromCharCode(c))
    .join('');
const oracle = (re: RegExp) =>
  [...Array(256).keys()]
    .map((c) => String.fromCharCode(c))
    .filter((ch) => re.test(ch))
    .join('');

describe('RFC 9110 §5.6.2 tchar', () => {
  test('TCHAR matches the ABNF', () => {
    expect(members(TCHAR)).toBe(oracle(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/));
  });
  test('isToken', () => {
    expect(isToken('Content-Type')).toBe(true);
    expect(isToken("!#$%&'*+-.^_`|~")).toBe(true);
    for (const s of ['', 'a b', 'a:b', 'a\x00', 'é', 'a"', '☃', 'a,b', '(x)']) expect(isToken(s), s).toBe(false);
  });
});

describe('RFC 9110 §5.5 field values', () => {
  test('FIELD_VALUE_CHAR is HTAB, SP, VCHAR and obs-text', () => {
    expect(members(FIELD_VALUE_CHAR)).toBe(oracle(/^[\t\x20-\x7e\x80-\xff]$/));
  });
  test('isFieldValue', () => {
    expect(isFieldValue('')).toBe(true);
    expect(isFieldValue('a \tb\xff')).toBe(true);
    for (const s of ['a\rb', 'a\nb', '\x00', '\x7f', '\x0b', '☃']) expect(isFieldValue(s), JSON.stringify(s)).toBe(false);
  });
  test('quoted-string tables (RFC 9110 §5.6.4)', () => {
    expect(members(QDTEXT)).toBe(oracle(/^[\t !\x23-\x5b\x5d-\x7e\x80-\xff]$/));
    expect(members(QUOTED_PAIR_CHAR)).toBe(oracle(/^[\t \x21-\x7e\x80-\xff]$/));
  });
});

describe('RFC 9112 §3.2 / RFC 3986 target and host characters', () => {
  test('TARGET_CHAR is visible ASCII', () => {
    expect(members(TARGET_CHAR)).toBe(oracle(/^[\x21-\x7e]$/));
  });
  test('REG_NAME_CHAR is unreserved / sub-delims; IP_LITERAL_CHAR is HEXDIG : .; SCHEME_CHAR', () => {
    expect(members(REG_NAME_CHAR)).toBe(oracle(/^[A-Za-z0-9\-._~!$&'()*+,;=]$/));
    expect(members(IP_LITERAL_CHAR)).toBe(oracle(/^[0-9A-Fa-f:.]$/));
    expect(members(SCHEME_CHAR)).toBe(oracle(/^[A-Za-z0-9+\-.]$/));
  });
  test('HEX_VALUE gives digit values and 0xFF elsewhere', () => {
    const hex = [...Array(256).keys()].filter((c) => HEX_VALUE[c] !== 0xff);
    expect(String.fromCharCode(...hex)).toBe('0123456789ABCDEFabcdef');
    expect([HEX_VALUE[0x30], HEX_VALUE[0x39], HEX_VALUE[0x41], HEX_VALUE[0x66]]).toEqual([0, 9, 10, 15]);
    expect(isHexDigit(0x61)).toBe(true);
    expect(isHexDigit(0x67)).toBe(false);
    expect(isHexDigit(0x661)).toBe(false);
  });
  test('isValidHost (RFC 9110 §7.2)', () => {
    for (const h of ['', 'a', 'a.b:1', 'a:', '[::1]', '[::1]:', '[fe80::1%25eth0]'.replace('%25eth0', ''), '%7e', '1.2.3.4:65535']) {
      expect(isValidHost(h), h).toBe(true);
    }
    for (const h of ['a b', '[', '[]', '[::1', '[::1]]', 'a:1:2', 'a:-1', 'a:123456', '%7', '%7g', 'ä', 'a/b', '[::1]a']) {
      expect(isValidHost(h), h).toBe(false);
    }
  });
});
