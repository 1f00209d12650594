// src/http/head.ts: one request head (request line + field lines) → RequestHead, or a refusal.
// Rules: (1) stateless: parseHead() looks at buf[start..] afresh on every call and never keeps
//        anything; `need-more` means "call me again when more bytes arrived";
//        (2) never throws and never reads past the first CRLFCRLF: bytes after it belong to the
//        body or to the next pipelined request;
//        (3) strict by default: where RFC 9112/9110 allows "reject or repair" we reject, except for
//        the two repairs the RFC asks for (empty lines before the request line, obs-fold outside
//        the fields that frame the body);
//        (4) the only Node API used is Buffer's latin1 decoder (see `latin1Slice` below).
// Theory of operation (fast path, one packet holds the whole head), one function per step:
//   1. skipEmptyLines, findHeadEnd: skip leading CRLFs; walk LFs with indexOf: each must follow a CR (bare LF →
//      400 at once, even before the head is complete); the first LF followed by CRLF ends the
//      head; size limit against maxHeaderBytes before any decoding;
//   2. decode the head once as latin1 (obs-text survives 1:1);
//   3. readRequestLine, readFieldLines: validate each line with the lookup tables of grammar.ts,
//      building the flat [name, value, ...] array as we go;
//   4. decideFromFields: derive Host, framing, persistence and Expect from the few fields that
//      matter.
// The steps hand each other plain values and the head being built, never state kept outside a
// call: the JIT keeps such values in registers, and a request allocates nothing more for it.
// Any syntax error found in a complete head is reported as a bare CR when the head holds one:
// a stray CR is the root cause of whatever else looks wrong (RFC 9112 §2.2).

import { ERR, bodyTooLarge, headTooLarge } from './errors.js';
import { CR, FIELD_VALUE_CHAR, LF, SCHEME_CHAR, TARGET_CHAR, TCHAR, isOws, isValidHost } from './grammar.js';
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

/** RFC 9112 §9.3: persistence from the version and the Connection options alone. */
function keepAliveFrom(version: HttpVersion, bits: number): boolean {
  if ((bits & CONN_CLOSE) !== 0) return false;
  return version === '1.1' || (bits & CONN_KEEP_ALIVE) !== 0;
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
  const p = skipEmptyLines(buf, start);
  const end = findHeadEnd(buf, start, p, limits.maxHeaderBytes, scannedTo);
  if (typeof end !== 'number') return end;
  // The head text without its final CRLFCRLF: request line, then "\r\n" + field line, ...
  // Positions in the steps below are indexes into `s`; s[k] is the octet buf[p + k]. Their
  // per-octet loops read the buffer (about twice as fast as charCodeAt here); `s` is only sliced.
  const s = latin1Slice.call(buf, p, end - 3);

  const head = readRequestLine(buf, p, s);
  if ('status' in head) return failIn(s, head);
  const error = readFieldLines(buf, p, s, head) ?? decideFromFields(head, limits.maxBodyBytes);
  if (error !== undefined) return failIn(s, error);

  // RFC 9110 §9.1, §15.6.2: a method the server does not implement gets 501. Fetch forbids these
  // three (`new Request` throws for them), so no app could be given one; decided last so that a
  // CONNECT with a bad target or Host field still gets its 400.
  const method = head.method;
  if (method === 'CONNECT' || method === 'TRACE' || method === 'TRACK') return fail(ERR.methodNotImplemented);
  return { kind: 'head', head, consumed: end + 1 - start };
}

/** RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) before the request-line. */
function skipEmptyLines(buf: Uint8Array, start: number): number {
  const len = buf.length;
  let p = start;
  while (p + 1 < len && buf[p] === CR && buf[p + 1] === LF) p += 2;
  return p;
}

/**
 * The index of the final LF of the head whose request line starts at buf[p] (its CRLFCRLF), or
 * why there is none yet: need-more, or a refusal that cannot wait for the rest (RFC 9112 §2.2 bare
 * CR or LF, RFC 6585 §5 size).
 */
function findHeadEnd(buf: Uint8Array, start: number, p: number, max: number, scannedTo: number): number | HeadResult {
  const len = buf.length;
  // The final LF of an acceptable head lies before `limit` (consumed = f + 1 - start <= max).
  const limit = start + max;
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
      if (buf[next + 1] !== LF) return fail(ERR.bareCarriageReturn); // RFC 9112 §2.2
      const f = next + 1;
      return f + 1 - start > max ? fail(headTooLarge(max)) : f; // RFC 6585 §5
    }
    i = next;
  }
  return incompleteHead(buf, start, p, max, scannedTo);
}

/** A head whose end has not arrived: need-more, unless what did arrive is refused already. */
function incompleteHead(buf: Uint8Array, start: number, p: number, max: number, scannedTo: number): HeadResult {
  const len = buf.length;
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

/** RFC 9110 §9.1: method = token, case-sensitive; buf[from..to) is the method. */
function methodError(buf: Uint8Array, from: number, to: number): HttpError | undefined {
  let lower = false;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (TCHAR[c] !== 1) return ERR.methodInvalid;
    if (c >= 0x61 && c <= 0x7a) lower = true;
  }
  // Waitress rule: every standard method is upper case, so a lower-case letter is a client bug.
  return lower ? ERR.methodNotUppercase : undefined;
}

/** RFC 9112 §2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT (case-sensitive), in s[v..end). */
function versionOf(s: string, v: number, end: number): HttpVersion | HttpError {
  const major = s.charCodeAt(v + 5) - 0x30;
  const minor = s.charCodeAt(v + 7) - 0x30;
  if (
    end - v !== 8 ||
    s.charCodeAt(v) !== 0x48 ||
    s.charCodeAt(v + 1) !== 0x54 ||
    s.charCodeAt(v + 2) !== 0x54 ||
    s.charCodeAt(v + 3) !== 0x50 ||
    s.charCodeAt(v + 4) !== 0x2f ||
    s.charCodeAt(v + 6) !== 0x2e ||
    !(major >= 0 && major <= 9) ||
    !(minor >= 0 && minor <= 9)
  ) {
    return ERR.versionInvalid;
  }
  // RFC 9110 §15.6.6: a major version we do not speak gets 505 (checked before the target, whose
  // grammar depends on the version). RFC 9110 §2.5: a higher minor version of HTTP/1 is processed
  // as the highest we implement, 1.1.
  if (major !== 1) return ERR.versionNotSupported;
  return minor === 0 ? '1.0' : '1.1';
}

/** RFC 9112 §3.2: which of the four forms `target` has; the method decides which it may have. */
function targetFormOf(method: string, target: string): TargetForm | HttpError {
  const t0 = target.charCodeAt(0);
  if (method === 'CONNECT') {
    // RFC 9110 §9.3.6, RFC 9112 §3.2.3: CONNECT takes the authority-form, and only it does.
    return isAuthorityForm(target) ? 'authority' : ERR.targetInvalidForm;
  }
  if (t0 === 0x2f /* / */) return 'origin'; // RFC 9112 §3.2.1
  if (t0 === 0x2a /* * */ && target.length === 1) {
    // RFC 9112 §3.2.4: asterisk-form is only for a server-wide OPTIONS.
    return method === 'OPTIONS' ? 'asterisk' : ERR.targetInvalidForm;
  }
  if (isAbsoluteForm(target)) return 'absolute'; // RFC 9112 §3.2.2
  return ERR.targetInvalidForm;
}

/**
 * RFC 9110 §5.1 field-name = token, then ":" with no whitespace before it (RFC 9112 §5.1):
 * what is wrong when s[at] (a byte of the name part of a field line ending at `end`) is not a tchar.
 */
function fieldNameByteError(s: string, at: number, end: number): HttpError {
  if (isOws(s.charCodeAt(at))) {
    let j = at;
    while (j < end && isOws(s.charCodeAt(j))) j++;
    if (j < end && s.charCodeAt(j) === COLON) return ERR.whitespaceBeforeColon;
  }
  return ERR.fieldNameInvalid;
}

/** A RequestHead while parseHead fills it in. */
type HeadDraft = { -readonly [K in keyof RequestHead]: RequestHead[K] };

/**
 * RFC 9112 §3: request-line = method SP request-target SP HTTP-version. Returns the head it
 * begins: no fields yet, no body.
 */
function readRequestLine(buf: Uint8Array, p: number, s: string): HeadDraft | HttpError {
  const lf = s.indexOf('\n');
  const rlEnd = lf === -1 ? s.length : lf - 1;
  const sp1 = s.indexOf(' ');
  if (sp1 <= 0 || sp1 >= rlEnd) return ERR.requestLineInvalid;
  const sp2 = s.indexOf(' ', sp1 + 1);
  if (sp2 === -1 || sp2 >= rlEnd || sp2 === sp1 + 1) return ERR.requestLineInvalid;
  const sp3 = s.indexOf(' ', sp2 + 1);
  if (sp3 !== -1 && sp3 < rlEnd) return ERR.requestLineInvalid;

  const badMethod = methodError(buf, p, p + sp1);
  if (badMethod !== undefined) return badMethod;
  const method = s.slice(0, sp1);
  const version = versionOf(s, sp2 + 1, rlEnd);
  if (typeof version !== 'string') return version;

  // RFC 9112 §3.2: request-target is visible US-ASCII (RFC 3986 §2).
  for (let i = p + sp1 + 1, iEnd = p + sp2; i < iEnd; i++) {
    if (TARGET_CHAR[buf[i]!] !== 1) return ERR.targetInvalidChar;
  }
  const target = s.slice(sp1 + 1, sp2);
  const targetForm = targetFormOf(method, target);
  if (typeof targetForm !== 'string') return targetForm;
  // RFC 9112 §3.2.1 origin-form = absolute-path [ "?" query ], RFC 3986 §4.3 absolute-URI =
  // scheme ":" hier-part [ "?" query ]: a fragment is for the client only and is never sent.
  // (The authority-form has no "#" as a host allows none, the asterisk-form is "*" alone.)
  if (target.includes('#')) return ERR.targetFragment;

  return {
    method,
    target,
    targetForm,
    version,
    headers: [],
    host: undefined,
    framing: FRAMING_NONE,
    keepAlive: false,
    expectsContinue: false,
  };
}

/**
 * RFC 9112 §5: the field lines after the request line, each `field-name ":" OWS field-value OWS`
 * and its CRLF, as lower-case name and value pairs onto head.headers.
 */
function readFieldLines(buf: Uint8Array, headStart: number, s: string, head: HeadDraft): HttpError | undefined {
  // Positions the JIT can see are small integers stay in registers in the per-octet loops below
  // (bench/codec.mjs shows it): hence `| 0` on an index that always is one, and the start of the
  // field lines worked out here rather than passed in.
  const p = headStart | 0;
  const headers = head.headers;
  const sLen = s.length;
  // The field lines start after `method SP request-target SP HTTP-version CRLF`, whose version
  // readRequestLine checked to be 8 octets long.
  let pos = head.method.length + head.target.length + 12;
  while (pos < sLen) {
    const lineStart = pos;
    const lf = s.indexOf('\n', lineStart);
    let end = lf === -1 ? sLen : lf - 1;
    // RFC 9112 §2.2: whitespace-preceded line right after the request line (a fold with nothing
    // to continue). Later folds are absorbed by the fold loop below, so this only sees the first.
    if (isOws(s.charCodeAt(lineStart))) return ERR.whitespaceBeforeFirstField;

    // RFC 9110 §5.1 field-name = token, then ":" with no whitespace before it (RFC 9112 §5.1).
    let i = lineStart;
    let upper = false;
    let underscore = false;
    for (; i < end; i++) {
      const c = buf[p + i]!;
      if (c === COLON) break;
      if (TCHAR[c] !== 1) return fieldNameByteError(s, i, end);
      if (c >= 0x41 && c <= 0x5a) upper = true;
      else if (c === UNDERSCORE) underscore = true;
    }
    if (i === end) return ERR.fieldNoColon;
    if (i === lineStart) return ERR.fieldNameEmpty;
    const nameEnd = i;

    // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS
    let value = trimmedValue(buf, p, s, nameEnd + 1, end);
    if (value === undefined) return ERR.fieldValueInvalid;
    pos = end + 2;
    const foldsFrom = pos;
    // RFC 9112 §5.2: a server MUST reject obs-fold or replace each one with SP; we replace, so
    // "a" CRLF SP "b" becomes "a b" (the fold's surrounding OWS collapses into that one SP),
    // except in the fields that frame the body (refused below): an intermediary that does not
    // unfold would frame the body otherwise (RFC 9112 §6, request smuggling).
    while (pos < sLen && isOws(s.charCodeAt(pos))) {
      const foldLf = s.indexOf('\n', pos);
      end = foldLf === -1 ? sLen : foldLf - 1;
      const more = trimmedValue(buf, p, s, pos, end);
      if (more === undefined) return ERR.fieldValueInvalid;
      if (more !== '') value = value === '' ? more : value + ' ' + more;
      pos = end + 2;
    }

    // Waitress: names with "_" are dropped; as CGI-style keys they would collide with the "-"
    // spelling of the same name (X_Foo vs X-Foo), a header-spoofing vector.
    if (underscore) continue;
    const raw = s.slice(lineStart, nameEnd);
    const name = upper ? raw.toLowerCase() : raw;
    if (pos !== foldsFrom && (name === 'content-length' || name === 'transfer-encoding')) return ERR.framingFieldFolded;
    headers.push(name, value);
  }
  return undefined;
}

/**
 * s[from..to) without its leading and trailing OWS (RFC 9112 §5); undefined when an octet in it
 * may not be in a field value (RFC 9110 §5.5: no CTL but HTAB; obs-text is allowed and kept).
 */
function trimmedValue(buf: Uint8Array, p: number, s: string, from: number, to: number): string | undefined {
  let a = from;
  let b = to;
  while (a < b && isOws(buf[p + a]!)) a++;
  while (b > a && isOws(buf[p + b - 1]!)) b--;
  for (let k = p + a, kEnd = p + b; k < kEnd; k++) {
    if (FIELD_VALUE_CHAR[buf[k]!] !== 1) return undefined;
  }
  return s.slice(a, b);
}

/**
 * Host (RFC 9112 §3.2), body framing (RFC 9112 §6.3), persistence (RFC 9112 §9.3) and Expect
 * (RFC 9110 §10.1.1), from the few fields that decide them: fills in head.host, framing, keepAlive
 * and expectsContinue, or says why the head is refused.
 */
function decideFromFields(head: HeadDraft, maxBodyBytes: number): HttpError | undefined {
  const headers = head.headers;
  let host: string | undefined;
  let hostCount = 0;
  let contentLength: string | undefined;
  let contentLengthCount = 0;
  let te: TeSummary | undefined;
  let connection = 0;
  let expect100 = false;
  // Dispatch on length first so the other names cost one integer compare.
  for (let k = 0; k < headers.length; k += 2) {
    const name = headers[k]!;
    const value = headers[k + 1]!;
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
        if (name === 'connection') connection |= connectionBits(value);
        break;
      case 14:
        if (name === 'content-length') {
          contentLengthCount++;
          contentLength = value;
        }
        break;
      case 17:
        if (name === 'transfer-encoding') {
          te ??= { codings: 0, chunked: 0, lastIsChunked: false, other: false };
          addTransferCodings(te, value);
        }
        break;
    }
  }
  const version = head.version;
  const error = hostError(host, hostCount, version);
  if (error !== undefined) return error;
  const length = contentLengthOf(contentLength, contentLengthCount);
  if (typeof length !== 'number') return length;
  const framing = bodyFraming(te, length, version, maxBodyBytes);
  if ('status' in framing) return framing;
  head.host = host;
  head.framing = framing;
  head.keepAlive = keepAliveFrom(version, connection);
  // RFC 9110 §10.1.1: 100-continue only means something for an HTTP/1.1 request with a body.
  head.expectsContinue = expect100 && version === '1.1' && framing !== FRAMING_NONE;
  return undefined;
}

/** RFC 9112 §3.2: one valid Host field; an HTTP/1.0 request may have none. */
function hostError(host: string | undefined, count: number, version: HttpVersion): HttpError | undefined {
  if (count > 1) return ERR.hostDuplicate;
  if (host === undefined) return version === '1.1' ? ERR.hostMissing : undefined;
  return isValidHost(host) ? undefined : ERR.hostInvalid;
}

/** RFC 9112 §6.3, RFC 9110 §8.6: the Content-Length as a number, -1 when there is none. */
function contentLengthOf(value: string | undefined, count: number): number | HttpError {
  if (value === undefined) return -1;
  // Even equal duplicates are refused: a list is how smuggling payloads disagree with proxies.
  if (count > 1) return ERR.contentLengthDuplicate;
  const n = value.length;
  if (n === 0) return ERR.contentLengthInvalid;
  let length = 0;
  for (let i = 0; i < n; i++) {
    const d = value.charCodeAt(i) - 0x30;
    // Content-Length = 1*DIGIT: no sign, no inner space, no list ("5, 5").
    if (!(d >= 0 && d <= 9)) return ERR.contentLengthInvalid;
    length = length * 10 + d;
    if (length > Number.MAX_SAFE_INTEGER) return ERR.contentLengthOverflow;
  }
  return length;
}

/** RFC 9112 §6.1, §6.3: how the body is delimited, from Transfer-Encoding and the Content-Length (-1: none). */
function bodyFraming(te: TeSummary | undefined, length: number, version: HttpVersion, maxBodyBytes: number): BodyFraming | HttpError {
  // A TE made only of empty list elements says nothing (RFC 9110 §5.6.1): treat it as absent.
  if (te !== undefined && te.codings > 0) {
    // RFC 9112 §6.1: TE in an HTTP/1.0 message is faulty framing (1.0 has no chunked).
    if (version === '1.0') return ERR.transferEncodingHttp10;
    // RFC 9112 §6.1: TE + CL "ought to be handled as an error"; we must close after it anyway.
    if (length !== -1) return ERR.transferEncodingWithContentLength;
    // RFC 9112 §7: chunked MUST NOT be applied more than once.
    if (te.chunked > 1) return ERR.chunkedTwice;
    // RFC 9112 §6.3: chunked not final → the length cannot be determined → 400.
    if (!te.lastIsChunked) return ERR.chunkedNotFinal;
    // RFC 9112 §6.1: a coding we do not understand under chunked → 501.
    if (te.other) return ERR.transferCodingUnsupported;
    return FRAMING_CHUNKED;
  }
  if (length <= 0) return FRAMING_NONE;
  // RFC 9110 §15.5.14: refuse an oversized body before reading any of it.
  if (length > maxBodyBytes) return bodyTooLarge(maxBodyBytes);
  return { kind: 'length', length };
}
