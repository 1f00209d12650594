// src/http/response.ts: the server's side of the wire: framing decisions, response heads, error
// responses, chunk framing.
// Rules: (1) pure functions over strings; a response head is a latin1 string (every char ≤ 0xFF,
//        which checkAppHeader guarantees for app headers) the shell writes with 'latin1';
//        (2) the server owns the framing and persistence fields (Content-Length,
//        Transfer-Encoding, Connection, and the other connection-specific ones): acceptAppFields
//        drops the app's (its Content-Length is read, then rewritten from ResponseFraming); the
//        app's Date and Server win over ours;
//        (3) app header names are written as the app spelled them (no Waitress re-capitalisation,
//        which turned ETag into Etag); the order is the app's, then ours;
//        (4) errorResponse() returns bytes, because its detail text may be any Unicode and the
//        body is UTF-8 while the head is latin1.

import { eachListElement } from './head.js';
import { isFieldValue, isToken } from './grammar.js';
import type { HttpVersion, ResponseFraming } from './types.js';

/**
 * RFC 9110 §7.6.1: fields that describe one connection, not the message, and that the server
 * manages itself: an app's are dropped and the server frames the response (Waitress refuses them
 * with a 500; an app such as Hono's streamSSE sets Transfer-Encoding and Connection as a matter
 * of course). Proxy-Connection is the pre-standard Connection (RFC 9112 Appendix C.2.2). Upgrade
 * is always dropped: the server switches protocols only for upgradeWebSocket(), whose 101 carries
 * the handshake's own Upgrade and Connection (RFC 6455 §4.2.2). Proxy-Authenticate and
 * Proxy-Authorization are not here (Waitress has them): they frame nothing, and an app that
 * acts as a proxy answers 407 with Proxy-Authenticate (RFC 9110 §11.7.1).
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Reason phrases (RFC 9110 §15, plus RFC 6585 §3-§6, RFC 8297, RFC 7725, RFC 8470, RFC 4918). */
export const STATUS_TEXT: Readonly<Record<number, string>> = Object.freeze({
  100: 'Continue',
  101: 'Switching Protocols',
  102: 'Processing',
  103: 'Early Hints',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  511: 'Network Authentication Required',
});

/**
 * Why an app-supplied header cannot go on the wire (response splitting, RFC 9110 §5), or
 * undefined when it can. Checked once per header before serializeResponseHead(), which trusts
 * its input.
 */
export function checkAppHeader(name: string, value: string): string | undefined {
  // RFC 9110 §5.1: field-name = token.
  if (!isToken(name)) return `Header name ${JSON.stringify(name)} is not a token (RFC 9110 §5.1).`;
  if (!isFieldValue(value)) {
    // RFC 9110 §5.5: CR, LF and NUL are the smuggling/splitting hazards; name them.
    if (/[\r\n\0]/.test(value)) {
      return `Header ${JSON.stringify(name)} value contains CR, LF or NUL (RFC 9110 §5.5).`;
    }
    for (let i = 0; i < value.length; i++) {
      if (value.charCodeAt(i) > 0xff) {
        return `Header ${JSON.stringify(name)} value has a character above U+00FF; encode it first (RFC 9110 §5.5).`;
      }
    }
    return `Header ${JSON.stringify(name)} value contains a control character (RFC 9110 §5.5).`;
  }
  return undefined;
}

/** An app's fields made ready for serializeResponseHead(). */
interface AppFields {
  /** [name, value, ...] with lower-cased names, in the app's order, without Content-Length and the dropped fields. */
  readonly fields: string[];
  /** The app's Content-Length, if it gave one. */
  readonly declaredLength: number | undefined;
  /** The lower-cased names of the connection-specific fields dropped, in order; undefined when none (the common case). */
  readonly dropped: string[] | undefined;
}

/** Why an app's fields cannot be sent: the rule they break, and the field at fault. */
interface AppFieldsRefused {
  /** `field`: a name or value that could split the response (RFC 9110 §5); `contentLength`: not one valid length (RFC 9110 §8.6). */
  readonly refused: 'field' | 'contentLength';
  readonly detail: string;
}

/**
 * Check an app's fields ([name, value, ...] as it gave them) and take out what the server
 * decides itself; or say why they cannot be sent (response splitting, an invalid
 * Content-Length).
 */
export function acceptAppFields(headers: readonly string[]): AppFields | AppFieldsRefused {
  const fields: string[] = [];
  let declaredLength: number | undefined;
  let dropped: string[] | undefined;
  let options: string[] | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    const value = headers[i + 1]!;
    const problem = checkAppHeader(name, value);
    if (problem !== undefined) return { refused: 'field', detail: `field "${name}": ${problem}` };
    if (name === 'content-length') {
      // RFC 9110 §8.6: Content-Length = 1*DIGIT; repeated, it must be one length.
      if (!/^\d{1,15}$/.test(value) || (declaredLength !== undefined && declaredLength !== Number(value))) {
        return { refused: 'contentLength', detail: `field "content-length" is not one valid length: "${value}" (RFC 9110 §8.6)` };
      }
      declaredLength = Number(value);
      continue;
    }
    if (HOP_BY_HOP.has(name)) {
      (dropped ??= []).push(name);
      if (name === 'connection') {
        options ??= [];
        eachListElement(value, (from, to) => options!.push(value.slice(from, to).toLowerCase()));
      }
      continue;
    }
    fields.push(name, value);
  }
  if (options === undefined) return { fields, declaredLength, dropped };
  // RFC 9110 §7.6.1: the fields the app's Connection names are connection-specific too. Sent
  // without the Connection that names them they would read as end-to-end, and travel past the
  // next hop, so they go as an intermediary removes them. (Content-Length stays the server's
  // framing input: a sender must not name a field meant for every recipient.)
  const named = new Set(options);
  const kept: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    if (named.has(fields[i]!)) dropped!.push(fields[i]!);
    else kept.push(fields[i]!, fields[i + 1]!);
  }
  return { fields: kept, declaredLength, dropped };
}

/**
 * How the response body is delimited. `declaredLength` is the app's Content-Length, if any;
 * `bodyLength` the length of a body the server holds in full (string, bytes, a file), 'stream'
 * for a body of unknown length, null when the app gave none.
 */
export function planResponseFraming(input: {
  version: HttpVersion;
  isHead: boolean;
  status: number;
  declaredLength: number | undefined;
  bodyLength: number | 'stream' | null;
}): ResponseFraming {
  const { status, bodyLength } = input;
  // RFC 9110 §6.4.1, §15.3.5, §15.4.5: 1xx, 204 and 304 have no content and carry no framing.
  if ((status >= 100 && status < 200) || status === 204 || status === 304) return { kind: 'none' };
  if (input.declaredLength !== undefined) return { kind: 'length', length: input.declaredLength };
  if (typeof bodyLength === 'number') return { kind: 'length', length: bodyLength };
  // RFC 9110 §9.3.2: HEAD gets the fields a GET would, but a field whose value is known only by
  // generating the content may be left out. No body (Hono answers HEAD with
  // `new Response(null, getResponse)`) says nothing of the GET's length, and a stream's length
  // is unknown: no framing field, rather than an invented 0, or a chunked coding (or a close on
  // HTTP/1.0) for a body that never comes; like node:http. The connection persists.
  if (input.isHead) return { kind: 'none' };
  if (bodyLength === null) return { kind: 'length', length: 0 };
  // RFC 9112 §6.3: unknown length → chunked on 1.1, close-delimited on 1.0 (no chunked there).
  return input.version === '1.1' ? { kind: 'chunked' } : { kind: 'close' };
}

/**
 * The response head as a latin1 string, final CRLFCRLF included. `appHeaders` is flat
 * [name, value, ...] and already passed checkAppHeader(). `connection` is written as given;
 * `server` undefined or '' omits our Server field.
 */
export function serializeResponseHead(
  version: HttpVersion,
  status: number,
  statusText: string,
  appHeaders: readonly string[],
  framing: ResponseFraming,
  connection: 'close' | 'keep-alive' | undefined,
  date: string,
  server: string | undefined,
): string {
  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
  let h = `HTTP/${version} ${status} ${statusText !== '' ? statusText : (STATUS_TEXT[status] ?? '')}\r\n`;
  let appDate = false;
  let appServer = false;
  for (let k = 0; k + 1 < appHeaders.length; k += 2) {
    const name = appHeaders[k]!;
    // Only names of these lengths can be one the server decides; skip toLowerCase otherwise.
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'date') appDate = true;
        break;
      case 6:
        if (name.toLowerCase() === 'server') appServer = true;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') continue;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') continue;
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') continue;
        break;
    }
    h += name + ': ' + appHeaders[k + 1]! + '\r\n';
  }
  if (framing.kind === 'length') h += 'Content-Length: ' + framing.length + '\r\n';
  else if (framing.kind === 'chunked') h += 'Transfer-Encoding: chunked\r\n';
  if (connection === 'close') h += 'Connection: close\r\n';
  else if (connection === 'keep-alive') h += 'Connection: keep-alive\r\n';
  // RFC 9110 §6.6.1: an origin server with a clock MUST send Date.
  if (!appDate) h += 'Date: ' + date + '\r\n';
  if (!appServer && server !== undefined && server !== '') h += 'Server: ' + server + '\r\n';
  return h + '\r\n';
}

/** RFC 9112 §7.1: chunk-size line for a chunk of `size` bytes (no extensions). */
export function chunkHeader(size: number): string {
  return size.toString(16).toUpperCase() + '\r\n';
}

/** Written after each chunk's data (RFC 9112 §7.1). */
export const CHUNK_CRLF = '\r\n';
/** last-chunk with an empty trailer section (RFC 9112 §7.1). */
export const LAST_CHUNK = '0\r\n\r\n';

const utf8 = new TextEncoder();

/**
 * A complete error response as bytes: latin1 head + UTF-8 body, Waitress's layout
 *   <Reason Phrase> CRLF CRLF <detail> CRLF CRLF (generated by <ident or "server">)
 * with Connection: close, Content-Length, Content-Type, Date, the refusal's own `fields` (426's
 * Sec-WebSocket-Version), Server (omitted when ident is empty), in that (alphabetical, Waitress)
 * order. `error.reason` is the detail line: the HttpError sentence, or the app error text /
 * traceback for a 500. `toHead`: it answers a HEAD, so the head goes alone, with the
 * Content-Length a GET's answer has (RFC 9110 §9.3.2: no content in a response to HEAD).
 */
export function errorResponse(
  error: { readonly status: number; readonly reason: string; readonly fields?: readonly string[] },
  version: HttpVersion,
  date: string,
  ident: string | undefined,
  toHead = false,
): Uint8Array {
  const phrase = STATUS_TEXT[error.status] ?? '';
  const tag = ident !== undefined && ident !== '' ? ident : 'server';
  const body = utf8.encode(`${phrase}\r\n\r\n${error.reason}\r\n\r\n(generated by ${tag})`);
  let head =
    `HTTP/${version} ${error.status} ${phrase}\r\n` +
    'Connection: close\r\n' +
    `Content-Length: ${body.length}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Date: ${date}\r\n`;
  const fields = error.fields;
  if (fields !== undefined) for (let i = 0; i + 1 < fields.length; i += 2) head += `${fields[i]!}: ${fields[i + 1]!}\r\n`;
  if (ident !== undefined && ident !== '') head += `Server: ${ident}\r\n`;
  head += '\r\n';
  const out = new Uint8Array(head.length + (toHead ? 0 : body.length));
  // latin1 encoding of the head; a char above U+00FF (only possible from a misconfigured ident)
  // becomes "?" rather than a silently truncated byte.
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    out[i] = c <= 0xff ? c : 0x3f;
  }
  if (!toHead) out.set(body, head.length);
  return out;
}
