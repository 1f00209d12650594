// src/http/errors.ts: every HttpError the codec can return, by name, and the refusals the shell
// makes without the codec: a head whose target and Host form no URL, and the 408s the server
// answers when a request misses a deadline.
// Rules: (1) one constant per refusal (a factory only where the reason embeds a configured limit);
//        (2) `code` is stable: callers and tests branch on it, never on `reason`;
//        (3) `reason` is one sentence that ends with the section that justifies the refusal, in the
//            one spelling `(RFC 9112 §7.1)`; it is the detail line of the error response body;
//        (4) the objects are frozen and shared: results hold them by reference, nothing copies.
// Each request is refused at most once and the connection is then closed by the shell
// (RFC 9112 §6.3: a server that cannot delimit a request body cannot keep the connection).

import type { HttpError } from './types.js';

function e(status: HttpError['status'], code: string, reason: string): HttpError {
  return Object.freeze({ status, code, reason });
}

export const ERR = Object.freeze({
  // --- message syntax (RFC 9112 §2) ---
  bareLineFeed: e(400, 'WS_ERR_BARE_LF', 'A line feed must be preceded by a carriage return. (RFC 9112 §2.2)'),
  bareCarriageReturn: e(400, 'WS_ERR_BARE_CR', 'A carriage return must be followed by a line feed. (RFC 9112 §2.2)'),
  whitespaceBeforeFirstField: e(
    400,
    'WS_ERR_WS_BEFORE_FIRST_FIELD',
    'A field line must not start with whitespace right after the request line. (RFC 9112 §2.2)',
  ),

  // --- request line (RFC 9112 §3) ---
  requestLineInvalid: e(
    400,
    'WS_ERR_REQUEST_LINE',
    'The request line must be method, request-target and HTTP-version separated by single spaces. (RFC 9112 §3)',
  ),
  methodInvalid: e(400, 'WS_ERR_METHOD', 'The method must be a token. (RFC 9110 §9.1)'),
  methodNotUppercase: e(
    400,
    'WS_ERR_METHOD_CASE',
    'Methods are case-sensitive and this server knows only upper-case ones. (RFC 9110 §9.1)',
  ),
  targetInvalidChar: e(400, 'WS_ERR_TARGET_CHAR', 'The request-target must contain only visible US-ASCII characters. (RFC 9112 §3.2)'),
  targetInvalidForm: e(
    400,
    'WS_ERR_TARGET_FORM',
    'The request-target must be in origin, absolute, authority (CONNECT only) or asterisk (OPTIONS only) form. (RFC 9112 §3.2)',
  ),
  versionInvalid: e(
    400,
    'WS_ERR_VERSION_SYNTAX',
    'The HTTP-version must be "HTTP/" followed by a digit, a dot and a digit. (RFC 9112 §2.3)',
  ),
  versionNotSupported: e(505, 'WS_ERR_VERSION_UNSUPPORTED', 'This server supports only HTTP/1. (RFC 9110 §15.6.6)'),
  targetFragment: e(
    400,
    'WS_ERR_TARGET_FRAGMENT',
    'The request-target must not contain a fragment ("#"): neither origin-form nor absolute-URI has one. (RFC 9112 §3.2)',
  ),
  // Decided by the shell (requestUrl), once the head is known to be well formed.
  targetNotUrl: e(400, 'WS_ERR_TARGET_NOT_URL', 'The request-target does not form a valid URI. (RFC 9112 §3.2)'),
  // Fetch forbids these methods (`new Request` throws), so no app could be given one.
  methodNotImplemented: e(
    501,
    'WS_ERR_METHOD_NOT_IMPLEMENTED',
    'This server does not implement the methods CONNECT, TRACE and TRACK. (RFC 9110 §15.6.2)',
  ),

  // --- field lines (RFC 9112 §5, RFC 9110 §5) ---
  fieldNoColon: e(400, 'WS_ERR_FIELD_NO_COLON', 'A field line must contain a colon after the field name. (RFC 9112 §5)'),
  fieldNameEmpty: e(400, 'WS_ERR_FIELD_NAME_EMPTY', 'A field name must not be empty. (RFC 9110 §5.1)'),
  fieldNameInvalid: e(400, 'WS_ERR_FIELD_NAME', 'A field name must be a token. (RFC 9110 §5.1)'),
  whitespaceBeforeColon: e(400, 'WS_ERR_WS_BEFORE_COLON', 'No whitespace is allowed between a field name and its colon. (RFC 9112 §5.1)'),
  fieldValueInvalid: e(
    400,
    'WS_ERR_FIELD_VALUE',
    'A field value must not contain control characters other than horizontal tab. (RFC 9110 §5.5)',
  ),

  // --- Host (RFC 9112 §3.2) ---
  hostMissing: e(400, 'WS_ERR_HOST_MISSING', 'An HTTP/1.1 request must have a Host field. (RFC 9112 §3.2)'),
  hostDuplicate: e(400, 'WS_ERR_HOST_DUPLICATE', 'A request must not have more than one Host field. (RFC 9112 §3.2)'),
  hostInvalid: e(400, 'WS_ERR_HOST_INVALID', 'The Host field must be a host name or IP literal with an optional port. (RFC 9110 §7.2)'),
  // Decided by the shell (requestUrl): the Host is well formed but no URL has it as authority.
  hostNotUrl: e(
    400,
    'WS_ERR_HOST_NOT_URL',
    'The Host field must be a host a URL can have: a name not ending in a number, a valid IPv4 address (each part 0-255), valid punycode, and a port of at most 65535. (RFC 9112 §3.2)',
  ),

  // --- proxy fields from a trusted proxy (RFC 7239; X-Forwarded-* are its de-facto forerunners) ---
  // The text before the colon is Waitress's ('Header "X" malformed.'), kept for people who grep for it.
  forwardedMalformed: e(
    400,
    'WS_ERR_FORWARDED',
    'Header "Forwarded" malformed: it must be comma-separated elements of ";"-separated token=value pairs, for and host well formed, proto http or https. (RFC 7239 §4)',
  ),
  xForwardedForMalformed: e(
    400,
    'WS_ERR_X_FORWARDED_FOR',
    'Header "X-Forwarded-For" malformed: the client hop must be an IP address, optionally with a port. (RFC 7239 §5.2, which it predates)',
  ),
  xForwardedHostMalformed: e(
    400,
    'WS_ERR_X_FORWARDED_HOST',
    'Header "X-Forwarded-Host" malformed: it must be a host name or IP literal with an optional port. (RFC 7239 §5.3, which it predates)',
  ),
  xForwardedProtoMalformed: e(
    400,
    'WS_ERR_X_FORWARDED_PROTO',
    'Header "X-Forwarded-Proto" malformed: it must be one value, http or https. (RFC 7239 §5.4, which it predates)',
  ),
  xForwardedPortMalformed: e(
    400,
    'WS_ERR_X_FORWARDED_PORT',
    'Header "X-Forwarded-Port" malformed: it must be one port number. (RFC 3986 §3.2.3)',
  ),

  // --- framing (RFC 9112 §6) ---
  contentLengthInvalid: e(400, 'WS_ERR_CONTENT_LENGTH', 'Content-Length must be one or more decimal digits. (RFC 9110 §8.6)'),
  contentLengthDuplicate: e(
    400,
    'WS_ERR_CONTENT_LENGTH_DUPLICATE',
    'A request must not have more than one Content-Length field. (RFC 9112 §6.3)',
  ),
  contentLengthOverflow: e(
    400,
    'WS_ERR_CONTENT_LENGTH_OVERFLOW',
    'Content-Length is larger than this server can represent. (RFC 9110 §8.6)',
  ),
  framingFieldFolded: e(
    400,
    'WS_ERR_FRAMING_FIELD_FOLDED',
    'Transfer-Encoding and Content-Length must not be folded over several lines (obs-fold). (RFC 9112 §5.2)',
  ),
  transferEncodingHttp10: e(400, 'WS_ERR_TE_HTTP10', 'Transfer-Encoding in an HTTP/1.0 request is faulty framing. (RFC 9112 §6.1)'),
  transferEncodingWithContentLength: e(
    400,
    'WS_ERR_TE_WITH_CL',
    'A request must not have both Transfer-Encoding and Content-Length. (RFC 9112 §6.1)',
  ),
  chunkedTwice: e(400, 'WS_ERR_TE_CHUNKED_TWICE', 'The chunked transfer coding must not be applied more than once. (RFC 9112 §7)'),
  chunkedNotFinal: e(
    400,
    'WS_ERR_TE_CHUNKED_NOT_FINAL',
    'The chunked transfer coding must be the final coding of a request body. (RFC 9112 §6.3)',
  ),
  transferCodingUnsupported: e(
    501,
    'WS_ERR_TE_UNSUPPORTED',
    'This server implements no transfer coding other than chunked. (RFC 9112 §6.1)',
  ),

  // --- chunked body (RFC 9112 §7.1) ---
  chunkSizeInvalid: e(400, 'WS_ERR_CHUNK_SIZE', 'Chunk size must be hexadecimal digits only. (RFC 9112 §7.1)'),
  chunkSizeOverflow: e(400, 'WS_ERR_CHUNK_SIZE_OVERFLOW', 'Chunk size is larger than this server can represent. (RFC 9112 §7.1)'),
  chunkExtensionInvalid: e(
    400,
    'WS_ERR_CHUNK_EXTENSION',
    'Chunk extension must be ";" name with an optional "=" token or quoted-string. (RFC 9112 §7.1.1)',
  ),
  chunkLineTooLong: e(
    400,
    'WS_ERR_CHUNK_LINE_TOO_LONG',
    'A chunk size line with its extensions must not exceed 4096 bytes. (RFC 9112 §7.1.1)',
  ),
  chunkNotTerminated: e(
    400,
    'WS_ERR_CHUNK_NOT_TERMINATED',
    'Chunk not properly terminated: chunk data must be followed by CRLF. (RFC 9112 §7.1)',
  ),
  chunkBareLineFeed: e(
    400,
    'WS_ERR_CHUNK_BARE_LF',
    'A chunked framing line must end with CRLF, not a bare line feed. (RFC 9112 §7.1, erratum 7633)',
  ),
  chunkBareCarriageReturn: e(
    400,
    'WS_ERR_CHUNK_BARE_CR',
    'A carriage return in chunked framing must be followed by a line feed. (RFC 9112 §2.2)',
  ),
});

/** 431 for a request head over `maxHeaderBytes` (RFC 6585 §5). */
export function headTooLarge(limit: number): HttpError {
  return e(431, 'WS_ERR_HEAD_TOO_LARGE', `The request head exceeds the limit of ${limit} bytes. (RFC 6585 §5)`);
}

/** 431 for a chunked trailer section over `maxTrailerBytes` (RFC 9112 §7.1.2, RFC 6585 §5). */
export function trailerTooLarge(limit: number): HttpError {
  return e(431, 'WS_ERR_TRAILER_TOO_LARGE', `The trailer section exceeds the limit of ${limit} bytes. (RFC 6585 §5)`);
}

/** 408 for a head that did not arrive whole within header_timeout (RFC 9110 §15.5.9). */
export function headTimedOut(seconds: number): HttpError {
  return e(408, 'WS_ERR_HEAD_TIMEOUT', `The request head did not arrive whole within ${seconds} s of its first byte. (RFC 9110 §15.5.9)`);
}

/** 408 for a body slower than body_min_rate once its grace period is over (RFC 9110 §15.5.9). */
export function bodyTooSlow(bytesPerSecond: number, graceSeconds: number): HttpError {
  return e(
    408,
    'WS_ERR_BODY_TOO_SLOW',
    `The request body arrived at less than ${bytesPerSecond} bytes per second after its first ${graceSeconds} s. (RFC 9110 §15.5.9)`,
  );
}

/** 408 for a connection shed at connection_limit before its head arrived whole (RFC 9110 §15.5.9). */
export const SHED: HttpError = e(
  408,
  'WS_ERR_SHED',
  'The server needed this connection for another client before the request head arrived whole. (RFC 9110 §15.5.9)',
);

/** 413 for a body over `maxBodyBytes`, declared or decoded (RFC 9110 §15.5.14). */
export function bodyTooLarge(limit: number): HttpError {
  return e(413, 'WS_ERR_BODY_TOO_LARGE', `The request body exceeds the limit of ${limit} bytes. (RFC 9110 §15.5.14)`);
}
