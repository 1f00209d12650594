// src/http/websocket.ts: the WebSocket opening handshake (RFC 6455 §4) as the server reads it,
// the fields its 101 answer carries besides ws's own, and the close codes an endpoint may send.
//
// Rules: (1) pure functions over a request head's flat fields, like the rest of the codec; the
//        accept value (a SHA-1) and the frames are ws's work, not this file's;
//        (2) a refused handshake is a HandshakeRefusal: the status to answer (400, or 426 with
//            the version this server speaks), a stable code and one sentence ending with its
//            section; upgradeWebSocket() throws it as a WebSocketHandshakeError (src/errors.ts),
//            and a task that sees one escape the app answers it (src/connection/task.ts).

import { eachListElement, fieldValue } from './head.js';
import { isToken } from './grammar.js';
import type { HttpVersion } from './types.js';

/** The only version of the protocol this server speaks (RFC 6455 §4.1 item 9). */
const WEBSOCKET_VERSION = '13';

/** A handshake the server refuses: what it answers, and why. */
export interface HandshakeRefusal {
  readonly status: 400 | 426;
  /** Stable machine-readable code (branch on this, never on the text). */
  readonly code: string;
  readonly reason: string;
  /** Fields the refusal carries, flat [name, value, ...]: 426 names the version spoken (RFC 6455 §4.4). */
  readonly fields?: readonly string[];
}

function refusal(status: 400 | 426, code: string, reason: string, fields?: readonly string[]): HandshakeRefusal {
  return Object.freeze(fields === undefined ? { status, code, reason } : { status, code, reason, fields: Object.freeze([...fields]) });
}

/** Every refusal of an opening handshake, by name. */
export const HANDSHAKE = Object.freeze({
  method: refusal(400, 'WS_ERR_WEBSOCKET_METHOD', 'A WebSocket opening handshake is a GET request. (RFC 6455 §4.2.1)'),
  httpVersion: refusal(400, 'WS_ERR_WEBSOCKET_HTTP_VERSION', 'A WebSocket opening handshake is an HTTP/1.1 request. (RFC 6455 §4.2.1)'),
  upgrade: refusal(400, 'WS_ERR_WEBSOCKET_UPGRADE', 'The Upgrade field must contain "websocket". (RFC 6455 §4.2.1)'),
  connection: refusal(400, 'WS_ERR_WEBSOCKET_CONNECTION', 'The Connection field must contain the "Upgrade" option. (RFC 6455 §4.2.1)'),
  version: refusal(
    426,
    'WS_ERR_WEBSOCKET_VERSION',
    `This server speaks version ${WEBSOCKET_VERSION} of the WebSocket protocol, which Sec-WebSocket-Version must name. (RFC 6455 §4.2.2, §4.4)`,
    ['Sec-WebSocket-Version', WEBSOCKET_VERSION],
  ),
  key: refusal(
    400,
    'WS_ERR_WEBSOCKET_KEY',
    'Sec-WebSocket-Key must appear once, a base64-encoded 16-byte nonce. (RFC 6455 §4.2.1, §11.3.1)',
  ),
  protocols: refusal(
    400,
    'WS_ERR_WEBSOCKET_PROTOCOLS',
    'Sec-WebSocket-Protocol must list subprotocol names, each a token and each once. (RFC 6455 §4.1, §11.3.4)',
  ),
  protocolNotOffered: refusal(
    400,
    'WS_ERR_WEBSOCKET_PROTOCOL',
    'The subprotocol the server accepts must be one the client offered in Sec-WebSocket-Protocol. (RFC 6455 §4.2.2)',
  ),
});

const BY_CODE: ReadonlyMap<string, HandshakeRefusal> = new Map(Object.values(HANDSHAKE).map((r) => [r.code, r]));

/** The refusal a code stands for: an error that crossed from a worker thread keeps only its code. */
export function handshakeRefusalOf(code: string | undefined): HandshakeRefusal | undefined {
  return code === undefined ? undefined : BY_CODE.get(code);
}

/** What a valid opening handshake asks for. */
export interface Handshake {
  /** Sec-WebSocket-Key as sent: the nonce the accept value is made of (RFC 6455 §4.2.2). */
  readonly key: string;
  /** The subprotocols the client offered, in its order (RFC 6455 §4.1 item 10); empty when none. */
  readonly protocols: readonly string[];
}

export type HandshakeResult =
  { readonly kind: 'handshake'; readonly handshake: Handshake } | { readonly kind: 'error'; readonly error: HandshakeRefusal };

/** RFC 4648 §4: 16 bytes are 22 base64 characters and two pads (as ws checks the key too). */
const NONCE = /^[A-Za-z0-9+/]{22}==$/;

/** True when the comma-separated list `value` has an element equal to `lower`, compared case-insensitively. */
function listHas(value: string | undefined, lower: string): boolean {
  if (value === undefined) return false;
  let found = false;
  eachListElement(value, (from, to) => {
    if (!found && value.slice(from, to).toLowerCase() === lower) found = true;
  });
  return found;
}

/** How many field lines named `name` there are. */
function countFields(headers: readonly string[], name: string): number {
  let count = 0;
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) count++;
  return count;
}

/**
 * RFC 6455 §4.1 item 10, §11.3.4: the subprotocols offered, each a token, none twice; undefined
 * when the list breaks that. Empty list elements are skipped, as for any list (RFC 9110 §5.6.1).
 */
function offeredProtocols(value: string | undefined): string[] | undefined {
  const protocols: string[] = [];
  if (value === undefined) return protocols;
  let valid = true;
  eachListElement(value, (from, to) => {
    const name = value.slice(from, to);
    if (!isToken(name) || protocols.includes(name)) valid = false;
    else protocols.push(name);
  });
  return valid ? protocols : undefined;
}

/**
 * Read a client's opening handshake (RFC 6455 §4.2.1) from its request line and its fields
 * (flat [name, value, ...], lower-case names, as a RequestHead has them). The version is checked
 * before the key: a client of an older draft sends neither a version nor this key, and 426 with
 * the version spoken tells it what to do (RFC 6455 §4.4).
 */
export function readHandshake(method: string, version: HttpVersion, headers: readonly string[]): HandshakeResult {
  // RFC 6455 §4.2.1 item 1: an HTTP/1.1 or higher GET request.
  if (method !== 'GET') return { kind: 'error', error: HANDSHAKE.method };
  if (version !== '1.1') return { kind: 'error', error: HANDSHAKE.httpVersion };
  // Item 3: Upgrade contains "websocket", ASCII case-insensitively (RFC 9110 §7.8: a list of protocols).
  if (!listHas(fieldValue(headers, 'upgrade'), 'websocket')) return { kind: 'error', error: HANDSHAKE.upgrade };
  // Item 4: Connection includes the token "Upgrade", ASCII case-insensitively (RFC 9110 §7.6.1).
  if (!listHas(fieldValue(headers, 'connection'), 'upgrade')) return { kind: 'error', error: HANDSHAKE.connection };
  // Item 6 and §4.2.2: version 13, or 426 naming it.
  if (fieldValue(headers, 'sec-websocket-version') !== WEBSOCKET_VERSION) return { kind: 'error', error: HANDSHAKE.version };
  // Item 5 and §11.3.1: one Sec-WebSocket-Key, a base64 16-byte nonce.
  const key = fieldValue(headers, 'sec-websocket-key');
  if (key === undefined || countFields(headers, 'sec-websocket-key') !== 1 || !NONCE.test(key)) {
    return { kind: 'error', error: HANDSHAKE.key };
  }
  const protocols = offeredProtocols(fieldValue(headers, 'sec-websocket-protocol'));
  if (protocols === undefined) return { kind: 'error', error: HANDSHAKE.protocols };
  return { kind: 'handshake', handshake: { key, protocols } };
}

/**
 * The lines ('Name: value') the 101 carries besides the four ws writes (status line, Upgrade,
 * Connection, Sec-WebSocket-Accept, and Sec-WebSocket-Protocol when one was chosen): the app's
 * fields, as acceptAppFields() left them (connection-specific fields and Content-Length are
 * gone), without the Sec-WebSocket- fields, which are the handshake's own (RFC 6455 §4.2.2); then
 * Date and Server, unless the app gave its own, as on every response of this server.
 */
export function switchingProtocolsLines(appFields: readonly string[], date: string, server: string | undefined): string[] {
  const lines: string[] = [];
  let appDate = false;
  let appServer = false;
  for (let i = 0; i + 1 < appFields.length; i += 2) {
    const name = appFields[i]!;
    const lower = name.toLowerCase();
    if (lower.startsWith('sec-websocket-')) continue;
    if (lower === 'date') appDate = true;
    else if (lower === 'server') appServer = true;
    lines.push(`${name}: ${appFields[i + 1]!}`);
  }
  if (!appDate) lines.push(`Date: ${date}`);
  if (!appServer && server !== undefined && server !== '') lines.push(`Server: ${server}`);
  return lines;
}

/**
 * RFC 6455 §7.4: the close codes an endpoint may send: 1000-1003 and 1007-1011 (§7.4.1), 1012-1014
 * (registered since, §11.7), and 3000-4999 for libraries and applications (§7.4.2). 1004 is
 * reserved; 1005, 1006 and 1015 must never be sent.
 */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** RFC 6455 §5.5: a control frame's payload is at most 125 bytes; a close frame's holds the 2-byte code and the reason. */
export const MAX_CLOSE_REASON_BYTES = 123;
