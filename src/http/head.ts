// src/http/head.ts: one request head (request line + field lines) → RequestHead, or a refusal.
// Rules: (1) stateless: parseHead() looks at buf[start..] afresh on every call and never keeps
//        anything; `need-more` means "call me again when more bytes arrived";
//        (2) never throws and never reads past the first CRLFCRLF: bytes after it belong to the
//        body or to the next pipelined request;
//        (3) strict by default: where RFC 9112/9110 allows "reject or repair" we reject, except for
//        the two repairs the RFC asks for (empty lines before the request line, obs-fold outside
//        the fields that frame the body);
//        (4) the only Node API used is Buffer's latin1 decoder (see `latin1Slice` below).
// Theory of operation (fast path, one packet holds the whole head):
//   1. skip leading CRLFs; walk LFs with indexOf: each must follow a CR (bare LF → 400 at once,
//      even before the head is complete); the first LF followed by CRLF ends the head;
//   2. size limit against maxHeaderBytes before any decoding;
//   3. decode the head once as latin1 (obs-text survives 1:1) and validate each line with the
//      lookup tables of grammar.ts, building the flat [name, value, ...] array as we go;
//   4. derive Host, framing, persistence and Expect from the few fields that matter.
// Any syntax error found in a complete head is reported as a bare CR when the head holds one:
// a stray CR is the root cause of whatever else looks wrong (RFC 9112 §2.2).

import { ERR, bodyTooLarge, headTooLarge } from './errors.js';
import { CR, FIELD_VALUE_CHAR, HTAB, LF, SCHEME_CHAR, SP, TARGET_CHAR, TCHAR, isValidHost } from './grammar.js';
import type { BodyFraming, HeadLimits, HeadResult, HttpError, HttpVersion, RequestHead, TargetForm } from './types.js';

// Buffer.prototype.latin1Slice is the native one-copy latin1 decoder behind buf.toString('latin1');
// it accepts any ArrayBufferView, so it works for a plain Uint8Array too. It is not in
// @types/node, hence the local type.
type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
const latin1Slice: Latin1Slice = (Buffer.prototype as unknown as { latin1Slice: Latin1Slice }).latin1Slice;

const NEED_MORE: HeadResult = Object.freeze({ kind: 'need-more' });
const FRAMING_NONE: BodyFraming = Object.freeze({ kind: 'none' });
const FRAMING_CHUNKED: BodyFraming = Object.freeze({ kind: 'chunked' });

const COLON = 0x3a;
const UNDERSCORE = 0x5f;

function fail(error: HttpError): HeadResult {
  return { kind: 'error', error };
}

/** RFC 9112 §2.2: true when `s` holds a CR that is not followed by LF. Error path only. */
function hasBareCr(s: string): boolean {
  for (let k = s.indexOf('\r'); k !== -1; k = s.indexOf('\r', k + 1)) {
    if (s.charCodeAt(k + 1) !== LF) return true;
  }
  return false;
}

/** A syntax error in a complete head; a bare CR anywhere in it takes precedence (see header). */
function failIn(s: string, error: HttpError): HeadResult {
  return fail(hasBareCr(s) ? ERR.bareCarriageReturn : error);
}

/**
 * True when s[from..to) equals `lower` ignoring ASCII case. `lower` is lower case; only its letters
 * match case-insensitively, every other char must be identical.
 */
function equalsLower(s: string, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = s.charCodeAt(from + i);
    const l = lower.charCodeAt(i);
    if (c !== l && !(l >= 0x61 && l <= 0x7a && (c | 0x20) === l)) return false;
  }
  return true;
}

const CONN_CLOSE = 1;
const CONN_KEEP_ALIVE = 2;

/**
 * RFC 9110 §5.6.1: walk a comma-separated list, calling `visit` with the bounds of each element
 * with its OWS trimmed; empty elements are skipped.
 */
export function eachListElement(v: string, visit: (from: number, to: number) => void): void {
  const n = v.length;
  for (let i = 0; i <= n;) {
    let e = v.indexOf(',', i);
    if (e === -1) e = n;
    let a = i;
    let b = e;
    while (a < b && isOws(v.charCodeAt(a))) a++;
    while (b > a && isOws(v.charCodeAt(b - 1))) b--;
    if (b > a) visit(a, b);
    i = e + 1;
  }
}

/**
 * RFC 9110 §7.6.1  Connection = #connection-option ; connection-option = token
 * Returns CONN_CLOSE | CONN_KEEP_ALIVE bits for the options in one field value (compared
 * case-insensitively).
 */
function connectionBits(v: string): number {
  let bits = 0;
  eachListElement(v, (a, b) => {
    if (equalsLower(v, a, b, 'close')) bits |= CONN_CLOSE;
    else if (equalsLower(v, a, b, 'keep-alive')) bits |= CONN_KEEP_ALIVE;
  });
  return bits;
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/** RFC 9112 §9.3: persistence from the version and the Connection options alone. */
function keepAliveFrom(version: HttpVersion, bits: number): boolean {
  if ((bits & CONN_CLOSE) !== 0) return false;
  return version === '1.1' || (bits & CONN_KEEP_ALIVE) !== 0;
}

/**
 * RFC 9112 §9.3: does this request, by itself, ask to keep the connection open? `headers` is the
 * flat lower-cased [name, value, ...] array of a RequestHead. (parseHead already puts the answer
 * in `head.keepAlive`; this is for callers that rebuild or alter heads.)
 */
export function requestKeepAlive(version: HttpVersion, headers: readonly string[]): boolean {
  let bits = 0;
  for (let k = 0; k + 1 < headers.length; k += 2) {
    if (headers[k] === 'connection') bits |= connectionBits(headers[k + 1] ?? '');
  }
  return keepAliveFrom(version, bits);
}

/**
 * The value of field `name` (lower-case) in the flat [name, value, ...] array of a RequestHead:
 * every field line of that name joined with ", " (RFC 9110 §5.3); undefined when there is none.
 */
export function fieldValue(headers: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) value = value === undefined ? headers[i + 1]! : `${value}, ${headers[i + 1]!}`;
  }
  return value;
}

// Transfer-Encoding summary across all TE fields (RFC 9112 §6.1, RFC 9110 §5.6.1).
interface TeSummary {
  codings: number; // non-empty list elements
  chunked: number; // how many of them are "chunked"
  lastIsChunked: boolean;
  other: boolean; // any coding other than chunked
}

function addTransferCodings(te: TeSummary, v: string): void {
  eachListElement(v, (a, b) => {
    te.codings++;
    // RFC 9112 §7: transfer-coding names are case-insensitive.
    const isChunked = equalsLower(v, a, b, 'chunked');
    if (isChunked) te.chunked++;
    else te.other = true;
    te.lastIsChunked = isChunked;
  });
}

/** RFC 9112 §3.2.2  absolute-form = absolute-URI, narrowed to `scheme "://" ...` */
function isAbsoluteForm(t: string): boolean {
  const c0 = t.charCodeAt(0);
  if (!((c0 >= 0x41 && c0 <= 0x5a) || (c0 >= 0x61 && c0 <= 0x7a))) return false;
  const colon = t.indexOf(':');
  if (colon === -1) return false;
  for (let i = 1; i < colon; i++) if (SCHEME_CHAR[t.charCodeAt(i)] !== 1) return false;
  return t.charCodeAt(colon + 1) === 0x2f && t.charCodeAt(colon + 2) === 0x2f;
}

/** RFC 9112 §3.2.3  authority-form = uri-host ":" port (port not empty here). */
function isAuthorityForm(t: string): boolean {
  const colon = t.lastIndexOf(':');
  if (colon <= 0 || colon === t.length - 1) return false;
  if (t.charCodeAt(0) === 0x5b /* [ */ && t.charCodeAt(colon - 1) !== 0x5d /* ] */) return false;
  return isValidHost(t);
}

/**
 * Parse the request head that begins at buf[start]. See the file header for the contract;
 * `consumed` counts from `start` through the final CRLFCRLF, leading empty lines included.
 *
 * `scannedTo` (optional) is where the previous call on this same head stopped (the buffer's end
 * when it returned need-more): the bytes before it were already searched for the end of the head
 * and for bare CR/LF, so only the new ones are. Without it, a head trickled in one byte per
 * packet would be rescanned whole each time: quadratic work up to max_request_header_size.
 */
export function parseHead(buf: Uint8Array, start: number, limits: HeadLimits, scannedTo = start): HeadResult {
  const len = buf.length;
  const max = limits.maxHeaderBytes;

  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) before the request-line.
  let p = start;
  while (p + 1 < len && buf[p] === CR && buf[p + 1] === LF) p += 2;

  // The final LF of an acceptable head lies before `limit` (consumed = f + 1 - start <= max).
  const limit = start + max;
  let f = -1;
  // Back up 3 bytes so an end of head split across calls ("\r\n\r" | "\n") is still seen.
  for (let i = Math.max(p, scannedTo - 3); ;) {
    const lf = buf.indexOf(LF, i);
    if (lf === -1 || lf >= limit) break;
    // RFC 9112 §2.2: a bare LF is not a line terminator. Refusing it as soon as it is seen means a
    // LF-only client gets its 400 instead of waiting for a CRLFCRLF that never comes.
    if (lf === p || buf[lf - 1] !== CR) return fail(ERR.bareLineFeed);
    const next = lf + 1;
    if (next < len && buf[next] === CR) {
      if (next + 1 === len) break; // "...\r\n\r" so far
      if (buf[next + 1] === LF) {
        f = next + 1;
        break;
      }
      return fail(ERR.bareCarriageReturn); // RFC 9112 §2.2
    }
    i = next;
  }

  if (f === -1) {
    // RFC 6585 §5: refuse an oversized head while it is still arriving.
    if (len - start > max) return fail(headTooLarge(max));
    // RFC 9112 §2.2: a bare CR is as fatal as a bare LF; find it early too (incomplete path only,
    // a complete head finds it while validating).
    const scanEnd = len - 1; // a CR in the last byte may still be followed by LF
    for (let k = buf.indexOf(CR, Math.max(p, scannedTo - 1)); k !== -1 && k < scanEnd; k = buf.indexOf(CR, k + 1)) {
      if (buf[k + 1] !== LF) return fail(ERR.bareCarriageReturn);
    }
    return NEED_MORE;
  }
  const consumed = f + 1 - start;
  if (consumed > max) return fail(headTooLarge(max)); // RFC 6585 §5

  // The head text without its final CRLFCRLF: request line, then "\r\n" + field line, ...
  // Positions below are indexes into `s`; s[k] is the octet buf[p + k]. The per-octet loops read
  // the buffer (about twice as fast as charCodeAt here) and `s` is only sliced.
  const s = latin1Slice.call(buf, p, f - 3);
  const sLen = s.length;

  // ---- request line: method SP request-target SP HTTP-version (RFC 9112 §3) ----
  let lf = s.indexOf('\n');
  const rlEnd = lf === -1 ? sLen : lf - 1;
  const sp1 = s.indexOf(' ');
  if (sp1 <= 0 || sp1 >= rlEnd) return failIn(s, ERR.requestLineInvalid);
  const sp2 = s.indexOf(' ', sp1 + 1);
  if (sp2 === -1 || sp2 >= rlEnd || sp2 === sp1 + 1) return failIn(s, ERR.requestLineInvalid);
  const sp3 = s.indexOf(' ', sp2 + 1);
  if (sp3 !== -1 && sp3 < rlEnd) return failIn(s, ERR.requestLineInvalid);

  // RFC 9110 §9.1: method = token, case-sensitive.
  let lower = false;
  for (let i = 0; i < sp1; i++) {
    const c = buf[p + i]!;
    if (TCHAR[c] !== 1) return failIn(s, ERR.methodInvalid);
    if (c >= 0x61 && c <= 0x7a) lower = true;
  }
  // Waitress rule: every standard method is upper case, so a lower-case letter is a client bug.
  if (lower) return failIn(s, ERR.methodNotUppercase);
  const method = s.slice(0, sp1);

  // RFC 9112 §2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT (case-sensitive).
  const v = sp2 + 1;
  const major = s.charCodeAt(v + 5) - 0x30;
  const minor = s.charCodeAt(v + 7) - 0x30;
  if (
    rlEnd - v !== 8 ||
    s.charCodeAt(v) !== 0x48 ||
    s.charCodeAt(v + 1) !== 0x54 ||
    s.charCodeAt(v + 2) !== 0x54 ||
    s.charCodeAt(v + 3) !== 0x50 ||
    s.charCodeAt(v + 4) !== 0x2f ||
    s.charCodeAt(v + 6) !== 0x2e ||
    !(major >= 0 && major <= 9) ||
    !(minor >= 0 && minor <= 9)
  ) {
    return failIn(s, ERR.versionInvalid);
  }
  // RFC 9110 §15.6.6: a major version we do not speak gets 505 (checked before the target, whose
  // grammar depends on the version). RFC 9110 §2.5: a higher minor version of HTTP/1 is processed
  // as the highest we implement, 1.1.
  if (major !== 1) return failIn(s, ERR.versionNotSupported);
  const version: HttpVersion = minor === 0 ? '1.0' : '1.1';

  // RFC 9112 §3.2: request-target is visible US-ASCII (RFC 3986 §2).
  for (let i = sp1 + 1; i < sp2; i++) {
    if (TARGET_CHAR[buf[p + i]!] !== 1) return failIn(s, ERR.targetInvalidChar);
  }
  const target = s.slice(sp1 + 1, sp2);
  let targetForm: TargetForm;
  const t0 = target.charCodeAt(0);
  if (method === 'CONNECT') {
    // RFC 9110 §9.3.6, RFC 9112 §3.2.3: CONNECT takes the authority-form, and only it does.
    if (!isAuthorityForm(target)) return failIn(s, ERR.targetInvalidForm);
    targetForm = 'authority';
  } else if (t0 === 0x2f /* / */) {
    targetForm = 'origin'; // RFC 9112 §3.2.1
  } else if (t0 === 0x2a /* * */ && target.length === 1) {
    // RFC 9112 §3.2.4: asterisk-form is only for a server-wide OPTIONS.
    if (method !== 'OPTIONS') return failIn(s, ERR.targetInvalidForm);
    targetForm = 'asterisk';
  } else if (isAbsoluteForm(target)) {
    targetForm = 'absolute'; // RFC 9112 §3.2.2
  } else {
    return failIn(s, ERR.targetInvalidForm);
  }
  // RFC 9112 §3.2.1 origin-form = absolute-path [ "?" query ], RFC 3986 §4.3 absolute-URI =
  // scheme ":" hier-part [ "?" query ]: a fragment is for the client only and is never sent.
  // (The authority-form has no "#" as a host allows none, the asterisk-form is "*" alone.)
  if (target.includes('#')) return failIn(s, ERR.targetFragment);

  // ---- field lines (RFC 9112 §5) ----
  const headers: string[] = [];
  let host: string | undefined;
  let hostCount = 0;
  let clValue: string | undefined;
  let clCount = 0;
  let te: TeSummary | undefined;
  let connBits = 0;
  let expect100 = false;

  let pos = rlEnd + 2;
  while (pos < sLen) {
    const lineStart = pos;
    lf = s.indexOf('\n', lineStart);
    let end = lf === -1 ? sLen : lf - 1;
    // RFC 9112 §2.2: whitespace-preceded line right after the request line (a fold with nothing to
    // continue). Later folds are absorbed by the inner loop below, so this only sees the first.
    if (isOws(s.charCodeAt(lineStart))) return failIn(s, ERR.whitespaceBeforeFirstField);

    // RFC 9110 §5.1 field-name = token, then ":" with no whitespace before it (RFC 9112 §5.1).
    let i = lineStart;
    let upper = false;
    let underscore = false;
    for (; i < end; i++) {
      const c = buf[p + i]!;
      if (c === COLON) break;
      if (TCHAR[c] !== 1) {
        if (isOws(c)) {
          let j = i;
          while (j < end && isOws(s.charCodeAt(j))) j++;
          if (j < end && s.charCodeAt(j) === COLON) return failIn(s, ERR.whitespaceBeforeColon);
        }
        return failIn(s, ERR.fieldNameInvalid);
      }
      if (c >= 0x41 && c <= 0x5a) upper = true;
      else if (c === UNDERSCORE) underscore = true;
    }
    if (i === end) return failIn(s, ERR.fieldNoColon);
    if (i === lineStart) return failIn(s, ERR.fieldNameEmpty);
    const nameEnd = i;

    // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS
    let a = nameEnd + 1;
    let b = end;
    while (a < b && isOws(buf[p + a]!)) a++;
    while (b > a && isOws(buf[p + b - 1]!)) b--;
    for (let k = p + a, kEnd = p + b; k < kEnd; k++) {
      // RFC 9110 §5.5: no CTL but HTAB; obs-text (0x80-0xFF) is allowed and kept.
      if (FIELD_VALUE_CHAR[buf[k]!] !== 1) return failIn(s, ERR.fieldValueInvalid);
    }
    let value = s.slice(a, b);
    pos = end + 2;
    const foldsFrom = pos;

    // RFC 9112 §5.2: a server MUST reject obs-fold or replace each one with SP; we replace, so
    // "a" CRLF SP "b" becomes "a b" (the fold's surrounding OWS collapses into that one SP),
    // except in the fields that frame the body (refused below): an intermediary that does not
    // unfold would frame the body otherwise (RFC 9112 §6, request smuggling).
    while (pos < sLen && isOws(s.charCodeAt(pos))) {
      lf = s.indexOf('\n', pos);
      end = lf === -1 ? sLen : lf - 1;
      let ca = pos;
      let cb = end;
      while (ca < cb && isOws(buf[p + ca]!)) ca++;
      while (cb > ca && isOws(buf[p + cb - 1]!)) cb--;
      for (let k = p + ca, kEnd = p + cb; k < kEnd; k++) {
        if (FIELD_VALUE_CHAR[buf[k]!] !== 1) return failIn(s, ERR.fieldValueInvalid);
      }
      if (cb > ca) value = value === '' ? s.slice(ca, cb) : value + ' ' + s.slice(ca, cb);
      pos = end + 2;
    }

    const folded = pos !== foldsFrom;

    // Waitress: names with "_" are dropped; as CGI-style keys they would collide with the "-"
    // spelling of the same name (X_Foo vs X-Foo), a header-spoofing vector.
    if (underscore) continue;
    const raw = s.slice(lineStart, nameEnd);
    const name = upper ? raw.toLowerCase() : raw;
    headers.push(name, value);

    // The few fields that decide framing and persistence; dispatch on length first so the other
    // names cost one integer compare.
    switch (name.length) {
      case 4:
        if (name === 'host') {
          hostCount++;
          host = value;
        }
        break;
      case 6:
        // RFC 9110 §10.1.1: the only expectation defined is "100-continue" (case-insensitive).
        if (name === 'expect' && equalsLower(value, 0, value.length, '100-continue')) expect100 = true;
        break;
      case 10:
        if (name === 'connection') connBits |= connectionBits(value);
        break;
      case 14:
        if (name === 'content-length') {
          if (folded) return failIn(s, ERR.framingFieldFolded);
          clCount++;
          clValue = value;
        }
        break;
      case 17:
        if (name === 'transfer-encoding') {
          if (folded) return failIn(s, ERR.framingFieldFolded);
          te ??= { codings: 0, chunked: 0, lastIsChunked: false, other: false };
          addTransferCodings(te, value);
        }
        break;
    }
  }

  // ---- Host (RFC 9112 §3.2) ----
  if (hostCount > 1) return failIn(s, ERR.hostDuplicate);
  if (host === undefined) {
    if (version === '1.1') return failIn(s, ERR.hostMissing);
  } else if (!isValidHost(host)) {
    return failIn(s, ERR.hostInvalid);
  }

  // ---- Content-Length (RFC 9112 §6.3, RFC 9110 §8.6) ----
  let length = -1;
  if (clValue !== undefined) {
    // Even equal duplicates are refused: a list is how smuggling payloads disagree with proxies.
    if (clCount > 1) return failIn(s, ERR.contentLengthDuplicate);
    const n = clValue.length;
    if (n === 0) return failIn(s, ERR.contentLengthInvalid);
    length = 0;
    for (let i = 0; i < n; i++) {
      const d = clValue.charCodeAt(i) - 0x30;
      // Content-Length = 1*DIGIT: no sign, no inner space, no list ("5, 5").
      if (!(d >= 0 && d <= 9)) return failIn(s, ERR.contentLengthInvalid);
      length = length * 10 + d;
      if (length > Number.MAX_SAFE_INTEGER) return failIn(s, ERR.contentLengthOverflow);
    }
  }

  // ---- Transfer-Encoding (RFC 9112 §6.1) ----
  let framing: BodyFraming = FRAMING_NONE;
  // A TE made only of empty list elements says nothing (RFC 9110 §5.6.1): treat it as absent.
  if (te !== undefined && te.codings > 0) {
    // RFC 9112 §6.1: TE in an HTTP/1.0 message is faulty framing (1.0 has no chunked).
    if (version === '1.0') return failIn(s, ERR.transferEncodingHttp10);
    // RFC 9112 §6.1: TE + CL "ought to be handled as an error"; we must close after it anyway.
    if (length !== -1) return failIn(s, ERR.transferEncodingWithContentLength);
    // RFC 9112 §7: chunked MUST NOT be applied more than once.
    if (te.chunked > 1) return failIn(s, ERR.chunkedTwice);
    // RFC 9112 §6.3: chunked not final → the length cannot be determined → 400.
    if (!te.lastIsChunked) return failIn(s, ERR.chunkedNotFinal);
    // RFC 9112 §6.1: a coding we do not understand under chunked → 501.
    if (te.other) return failIn(s, ERR.transferCodingUnsupported);
    framing = FRAMING_CHUNKED;
  } else if (length > 0) {
    // RFC 9110 §15.5.14: refuse an oversized body before reading any of it.
    if (length > limits.maxBodyBytes) return failIn(s, bodyTooLarge(limits.maxBodyBytes));
    framing = { kind: 'length', length };
  }

  // RFC 9110 §9.1, §15.6.2: a method the server does not implement gets 501. Fetch forbids these
  // three (`new Request` throws for them), so no app could be given one; decided last so that a
  // CONNECT with a bad target or Host field still gets its 400.
  if (method === 'CONNECT' || method === 'TRACE' || method === 'TRACK') return fail(ERR.methodNotImplemented);

  const head: RequestHead = {
    method,
    target,
    targetForm,
    version,
    headers,
    host,
    framing,
    keepAlive: keepAliveFrom(version, connBits),
    // RFC 9110 §10.1.1: 100-continue only means something for an HTTP/1.1 request with a body.
    expectsContinue: expect100 && version === '1.1' && framing !== FRAMING_NONE,
  };
  return { kind: 'head', head, consumed };
}
