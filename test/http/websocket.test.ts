// test/http/websocket.test.ts: the WebSocket opening handshake as the server reads it
// (readHandshake, RFC 6455 §4.2.1), from heads parsed by parseHead() as the server parses them;
// the 101's extra lines; the close codes an endpoint may send; the 426 refusal on the wire.
import { readFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../src/http/response.js';
import {
  HANDSHAKE,
  handshakeRefusalOf,
  isSendableCloseCode,
  readHandshake,
  switchingProtocolsLines,
  type HandshakeResult,
} from '../../src/http/websocket.js';
import { head } from './helpers.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='; // RFC 6455 §1.3's sample nonce

/** Read the handshake of a request made of these field lines (after the request line). */
function read(fields: string, requestLine = 'GET /chat HTTP/1.1'): HandshakeResult {
  const parsed = head(`${requestLine}\r\nHost: a\r\n${fields}\r\n`);
  return readHandshake(parsed.method, parsed.version, parsed.headers);
}

const VALID = `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n`;

function refusedWith(result: HandshakeResult): string | undefined {
  return result.kind === 'error' ? result.error.code : undefined;
}

describe('readHandshake: the rules of RFC 6455 §4.2.1', () => {
  it("takes RFC 6455 §1.3's sample handshake", () => {
    expect(read(VALID)).toEqual({ kind: 'handshake', handshake: { key: KEY, protocols: [] } });
  });

  it.each([
    ['POST', 'POST /chat HTTP/1.1', HANDSHAKE.method],
    ['HTTP/1.0', 'GET /chat HTTP/1.0', HANDSHAKE.httpVersion],
  ])('refuses a request that is not an HTTP/1.1 GET (%s)', (_, requestLine, refusal) => {
    expect(refusedWith(read(`${VALID}Content-Length: 0\r\n`, requestLine))).toBe(refusal.code);
  });

  it.each([
    ['no Upgrade', VALID.replace('Upgrade: websocket\r\n', ''), HANDSHAKE.upgrade],
    ['another protocol', VALID.replace('Upgrade: websocket', 'Upgrade: h2c'), HANDSHAKE.upgrade],
    ['no Connection', VALID.replace('Connection: Upgrade\r\n', ''), HANDSHAKE.connection],
    ['Connection without upgrade', VALID.replace('Connection: Upgrade', 'Connection: keep-alive'), HANDSHAKE.connection],
    ['Connection with upgrade inside a word', VALID.replace('Connection: Upgrade', 'Connection: upgrades'), HANDSHAKE.connection],
    ['no key', VALID.replace(`Sec-WebSocket-Key: ${KEY}\r\n`, ''), HANDSHAKE.key],
    ['a key of 15 bytes', VALID.replace(KEY, Buffer.alloc(15).toString('base64')), HANDSHAKE.key],
    ['a key of 17 bytes', VALID.replace(KEY, Buffer.alloc(17).toString('base64')), HANDSHAKE.key],
    ['a key that is not base64', VALID.replace(KEY, 'dGhlIHNhbXBsZSBub25jZQ!='), HANDSHAKE.key],
    ['two keys', `${VALID}Sec-WebSocket-Key: ${KEY}\r\n`, HANDSHAKE.key],
    ['no version', VALID.replace('Sec-WebSocket-Version: 13\r\n', ''), HANDSHAKE.version],
    ['version 8', VALID.replace('Version: 13', 'Version: 8'), HANDSHAKE.version],
    ['two versions', `${VALID}Sec-WebSocket-Version: 13\r\n`, HANDSHAKE.version],
    ['a protocol that is no token', `${VALID}Sec-WebSocket-Protocol: chat, a b\r\n`, HANDSHAKE.protocols],
    ['a protocol offered twice', `${VALID}Sec-WebSocket-Protocol: chat, chat\r\n`, HANDSHAKE.protocols],
  ])('refuses %s', (_, fields, refusal) => {
    expect(refusedWith(read(fields))).toBe(refusal.code);
  });

  it('checks the version before the key: a client of an older draft learns the version spoken (RFC 6455 §4.4)', () => {
    const hixie = 'Upgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n';
    expect(refusedWith(read(hixie))).toBe(HANDSHAKE.version.code);
  });

  it('reads the subprotocols offered in order, over several lines, skipping empty list elements', () => {
    const result = read(`${VALID}Sec-WebSocket-Protocol: chat, , superchat\r\nSec-WebSocket-Protocol: v2.json\r\n`);
    expect(result).toEqual({ kind: 'handshake', handshake: { key: KEY, protocols: ['chat', 'superchat', 'v2.json'] } });
  });

  const caseOf = (word: string) =>
    fc
      .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
      .map((upper) => [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''));
  const ows = fc.constantFrom('', ' ', '\t', ' \t');
  const otherOptions = fc.array(fc.constantFrom('keep-alive', 'close-ish', 'x-a', 'HTTP2-Settings'), { maxLength: 3 });

  test.prop([
    caseOf('websocket'),
    caseOf('upgrade'),
    otherOptions,
    otherOptions,
    ows,
    fc.boolean(),
    fc.array(caseOf('sec-websocket-key'), { minLength: 1, maxLength: 1 }),
  ])(
    'takes Upgrade and Connection in any case, among other options, in one field line or split over several',
    (upgradeToken, upgradeOption, before, after, space, split, [keyName]) => {
      const options = [...before, upgradeOption, ...after];
      const connection = split
        ? options.map((option) => `Connection:${space}${option}${space}\r\n`).join('')
        : `Connection:${space}${options.join(`${space},${space}`)}${space}\r\n`;
      const fields = `Upgrade: h2c, ${upgradeToken}\r\n${connection}${keyName}: ${KEY}\r\nsec-WEBSOCKET-version: 13\r\n`;
      expect(read(fields)).toEqual({ kind: 'handshake', handshake: { key: KEY, protocols: [] } });
    },
  );

  test.prop([fc.uint8Array({ minLength: 16, maxLength: 16 })])('takes any 16-byte nonce in base64', (nonce) => {
    const key = Buffer.from(nonce).toString('base64');
    expect(read(VALID.replace(KEY, key))).toEqual({ kind: 'handshake', handshake: { key, protocols: [] } });
  });

  test.prop([fc.uint8Array({ maxLength: 40 }).filter((nonce) => nonce.length !== 16)])('refuses a nonce of any other length', (nonce) => {
    const key = Buffer.from(nonce).toString('base64');
    expect(refusedWith(read(VALID.replace(`Sec-WebSocket-Key: ${KEY}`, `Sec-WebSocket-Key: ${key}`)))).toBe(HANDSHAKE.key.code);
  });

  test.prop([fc.string({ unit: fc.constantFrom(...'0123456789 ,'.split('')), maxLength: 6 }).filter((v) => v.trim() !== '13')])(
    'answers any version but 13 with 426 naming 13',
    (version) => {
      const result = read(VALID.replace('Sec-WebSocket-Version: 13', `Sec-WebSocket-Version: ${version}`));
      expect(result.kind === 'error' && result.error).toMatchObject({ status: 426, fields: ['Sec-WebSocket-Version', '13'] });
    },
  );
});

describe('the refusals', () => {
  it('are known by their codes, as an error that crossed from a worker thread keeps only its code', () => {
    for (const refusal of Object.values(HANDSHAKE)) expect(handshakeRefusalOf(refusal.code)).toBe(refusal);
    expect(handshakeRefusalOf('WS_ERR_APP_FIELD')).toBeUndefined();
    expect(handshakeRefusalOf(undefined)).toBeUndefined();
  });

  it('each end with the section that justifies it', () => {
    for (const refusal of Object.values(HANDSHAKE)) expect(refusal.reason).toMatch(/\(RFC 6455 §[\d.]+(, §[\d.]+)*\)$/);
  });

  it('are listed in docs/usage.md, each with its reason and what the client gets', () => {
    const docs = readFileSync('docs/usage.md', 'utf8');
    for (const { code, reason, status } of Object.values(HANDSHAKE)) expect(docs).toContain(`| \`${code}\` | ${reason} | ${status}`);
  });

  it('426 goes on the wire with Sec-WebSocket-Version: 13 (RFC 6455 §4.4)', () => {
    const text = Buffer.from(errorResponse(HANDSHAKE.version, '1.1', 'Sat, 28 Nov 2026 08:00:00 GMT', 'waitstate')).toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    expect(text).toContain('\r\nDate: Sat, 28 Nov 2026 08:00:00 GMT\r\nSec-WebSocket-Version: 13\r\nServer: waitstate\r\n\r\n');
  });
});

describe("the 101's lines besides the handshake's own", () => {
  const DATE = 'Sat, 28 Nov 2026 08:00:00 GMT';
  it("carries the app's fields, then Date and Server", () => {
    expect(switchingProtocolsLines(['set-cookie', 'a=1', 'set-cookie', 'b=2', 'x-trace', 't'], DATE, 'waitstate')).toEqual([
      'set-cookie: a=1',
      'set-cookie: b=2',
      'x-trace: t',
      `Date: ${DATE}`,
      'Server: waitstate',
    ]);
  });
  it("leaves out the handshake's own Sec-WebSocket- fields, which ws writes", () => {
    const fields = ['sec-websocket-accept', 'x', 'Sec-WebSocket-Protocol', 'chat', 'sec-websocket-extensions', 'y'];
    expect(switchingProtocolsLines(fields, DATE, undefined)).toEqual([`Date: ${DATE}`]);
  });
  it("keeps the app's own Date and Server", () => {
    expect(switchingProtocolsLines(['date', 'then', 'server', 'mine'], DATE, 'waitstate')).toEqual(['date: then', 'server: mine']);
  });
});

describe('isSendableCloseCode (RFC 6455 §7.4)', () => {
  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999])('%i may be sent', (code) => {
    expect(isSendableCloseCode(code)).toBe(true);
  });
  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])('%i may not', (code) => {
    expect(isSendableCloseCode(code)).toBe(false);
  });
});
