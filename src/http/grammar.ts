// src/http/grammar.ts: the character classes of RFC 9110/9112 (and RFC 3986 for Host), as tables.
// Rules: (1) every class is a Uint8Array(256) indexed by an octet (or a char code of a latin1
//        string), 1 = member, 0 = not; the ABNF it encodes is quoted above it;
//        (2) tables are built once at load and never written afterwards;
//        (3) helpers take strings and never throw; a char code above 0xFF is simply not a member
//        (reading a typed array out of range gives undefined, which is `!== 1`).
// Why tables: a lookup is one load per octet, with no regex engine and no allocation, which is what
// the per-request hot path can afford.

function table(members: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) if (members(c)) t[c] = 1;
  return t;
}

const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

export const HTAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;

/** RFC 9110 §5.6.3  OWS = *( SP / HTAB ): one octet of optional whitespace. */
export function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/**
 * RFC 9110 §5.6.2
 *   token = 1*tchar
 *   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *           "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 */
export const TCHAR: Uint8Array = table((c) => isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/**
 * RFC 9110 §5.5
 *   field-value   = *field-content
 *   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
 *   field-vchar   = VCHAR / obs-text
 *   obs-text      = %x80-FF
 * One octet anywhere inside a field value: field-vchar, SP or HTAB. Every other CTL (NUL, CR,
 * LF, DEL, ...) is excluded; leading/trailing whitespace is the caller's business (it is OWS).
 */
export const FIELD_VALUE_CHAR: Uint8Array = table((c) => c === HTAB || (c >= 0x20 && c <= 0x7e) || c >= 0x80);

/**
 * RFC 9112 §3.2 request-target, RFC 3986 §2: a URI is made of visible US-ASCII only.
 *   VCHAR = %x21-7E
 * (The per-form grammar is checked separately; this table only keeps CTLs, SP and non-ASCII out.)
 */
export const TARGET_CHAR: Uint8Array = table((c) => c >= 0x21 && c <= 0x7e);

/**
 * RFC 5234 Appendix B.1  HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F"
 * (case-insensitive, as every ABNF string). HEX_VALUE[c] is the digit's value, or 0xFF when c is
 * not a hex digit.
 */
export const HEX_VALUE: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(0xff);
  for (let d = 0; d < 10; d++) t[0x30 + d] = d;
  for (let d = 0; d < 6; d++) {
    t[0x41 + d] = 10 + d;
    t[0x61 + d] = 10 + d;
  }
  return t;
})();

/** True when char code `c` is a HEXDIG (false for anything outside 0..255). */
export function isHexDigit(c: number): boolean {
  return (HEX_VALUE[c] ?? 0xff) !== 0xff;
}

/**
 * RFC 9110 §5.6.4 (chunk-ext quoted-string, RFC 9112 §7.1.1)
 *   qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
 */
export const QDTEXT: Uint8Array = table(
  (c) => c === HTAB || c === SP || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80,
);

/** RFC 9110 §5.6.4  quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
export const QUOTED_PAIR_CHAR: Uint8Array = table((c) => c === HTAB || c === SP || (c >= 0x21 && c <= 0x7e) || c >= 0x80);

/**
 * RFC 3986 §3.2.2 reg-name, minus pct-encoded (handled by isValidHost, it spans three octets)
 *   reg-name   = *( unreserved / pct-encoded / sub-delims )
 *   unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
 *   sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
 */
export const REG_NAME_CHAR: Uint8Array = table((c) => isAlpha(c) || isDigit(c) || "-._~!$&'()*+,;=".includes(String.fromCharCode(c)));

/**
 * RFC 3986 §3.2.2 IP-literal = "[" ( IPv6address / IPvFuture ) "]", narrowed to what an IPv6
 * address (or IPv4-embedded one) is made of: HEXDIG, ":" and ".".
 */
export const IP_LITERAL_CHAR: Uint8Array = table((c) => HEX_VALUE[c] !== 0xff || c === 0x3a || c === 0x2e);

/**
 * RFC 3986 §3.1  scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
 * (this table is for the octets after the first, which must be ALPHA)
 */
export const SCHEME_CHAR: Uint8Array = table((c) => isAlpha(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e);

/** RFC 9110 §5.6.2: true when `s` is a non-empty token. */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/**
 * RFC 9110 §5.5: true when every char of `s` may appear in a field value (no CTL except HTAB;
 * obs-text allowed; nothing above U+00FF, since a head is latin1 on the wire).
 */
export function isFieldValue(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) if (FIELD_VALUE_CHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** RFC 3986 §3.2.3  port = *DIGIT, which we bound to 5 digits (a TCP port). */
function isPort(s: string, from: number): boolean {
  const n = s.length;
  if (n - from > 5) return false;
  for (let i = from; i < n; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/**
 * RFC 9110 §7.2, RFC 3986 §3.2.2
 *   Host     = uri-host [ ":" port ]
 *   uri-host = IP-literal / IPv4address / reg-name
 * IPv4address is a reg-name lexically, so two shapes remain: `[hex/:/.]` or reg-name, each with
 * an optional `:` + 0-5 digits. The empty value is allowed (RFC 9112 §3.2: an empty Host is sent
 * when the target URI has no authority).
 */
export function isValidHost(s: string): boolean {
  const n = s.length;
  if (n === 0) return true;
  let i = 0;
  if (s.charCodeAt(0) === 0x5b /* [ */) {
    const close = s.indexOf(']');
    if (close < 2) return false; // missing, or "[]"
    for (i = 1; i < close; i++) if (IP_LITERAL_CHAR[s.charCodeAt(i)] !== 1) return false;
    i = close + 1;
  } else {
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x3a /* : */) break;
      if (c === 0x25 /* % */) {
        // pct-encoded = "%" HEXDIG HEXDIG
        if (i + 2 >= n || !isHexDigit(s.charCodeAt(i + 1)) || !isHexDigit(s.charCodeAt(i + 2))) return false;
        i += 2;
        continue;
      }
      if (REG_NAME_CHAR[c] !== 1) return false;
    }
  }
  if (i === n) return true;
  if (s.charCodeAt(i) !== 0x3a) return false;
  return isPort(s, i + 1);
}
